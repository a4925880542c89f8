// CausalLM: the Llama-family forward on the CPU. Only real tokens are
// computed: the batch is packed row after row (no padding), positions count
// from each row's start, and attention is causal within each row.
#include "mezo/model/causal_lm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "file_io.hpp"
#include "io/hf_checkpoint.hpp"
#include "mezo/error.hpp"
#include "mezo/io/safetensors.hpp"
#include "model/batch_checks.hpp"
#include "model/forward_support.hpp"
#include "model/llama/decoder_weights.hpp"
#include "model/llama/gguf_export.hpp"
#include "model/llama/rope_frequencies.hpp"
#include "model/ops/ops.hpp"
#include "model/peft_state.hpp"

MEZO_BEGIN_NAMESPACE

namespace {
using model::ensure_size;
using model::llama::DecoderWeights;
using model::llama::Slot;

void check_options(const ModelOptions& options) {
  if (options.num_threads < 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("ModelOptions: num_threads must be >= 0, got {}", options.num_threads));
  }
}
}  // namespace

struct CausalLM::Impl {
  DecoderConfig config;
  ModelOptions options;
  DecoderWeights weights;
  std::vector<float> inv_freq;
  // The source GGUF's tokenizer.* and general.* metadata, for save_gguf.
  std::vector<std::pair<std::string, GgufValue>> carried_metadata;
  // Parameter-efficient fine-tuning: the trainable tensors and their layout.
  model::PeftBuffer peft;
  model::LoraState lora;
  model::PrefixState prefix;
  // Activations of the packed batch, reused across forwards.
  std::vector<float> hidden, normed, q, k, v, context, projected, gate, up, scratch, head_in;
  std::vector<float> lora_t, lora_u;
  std::vector<std::int32_t> positions;
  std::vector<std::int64_t> row_offsets;

  Impl(const DecoderConfig& c, const ModelOptions& o, DecoderWeights w)
      : config(c), options(o), weights(std::move(w)), inv_freq(model::llama::rope_inv_freq(c)) {
    // A model trained with an untied head saves that head: its config says so.
    if (o.untie_head) config.tie_word_embeddings = false;
  }

  int threads() const { return model::resolve_threads(options.num_threads); }

  // Prefix positions every sequence starts after (0 without prefix tuning).
  std::int64_t prefix_tokens(bool use_peft) const {
    return use_peft && prefix.enabled ? prefix.tokens : 0;
  }

  // Runs every layer over the batch's real tokens; leaves the last hidden
  // states, packed (Σ lengths × hidden), in `hidden`. use_peft = false runs
  // the frozen base model (no LoRA, no prefix); `capture`, if given,
  // receives each layer's keys (after RoPE) and values,
  // [layer][k, v][Σ lengths × kv_heads·head_dim].
  //
  // With a prefix of m positions, a sequence's tokens take positions m, m+1,
  // ... as if the m prefix tokens came before it (the prefix holds keys
  // already rotated for positions 0..m−1, as a key/value cache does), so the
  // real-activation init equals prepending those tokens.
  void forward(const TokenBatch& batch, bool use_peft = true,
               std::vector<float>* capture = nullptr) {
    const DecoderConfig& c = config;
    const std::int64_t m = prefix_tokens(use_peft);
    const bool lora_on = use_peft && lora.enabled;
    const std::int64_t H = c.hidden_size, I = c.intermediate_size, d = c.head_dim;
    const std::int64_t q_width = c.num_attention_heads * d, kv_width = c.num_key_value_heads * d;
    row_offsets.resize(static_cast<std::size_t>(batch.rows));
    std::int64_t n = 0;
    for (std::int64_t r = 0; r < batch.rows; ++r) {
      row_offsets[static_cast<std::size_t>(r)] = n;
      n += batch.lengths[r];
    }
    ensure_size(hidden, n * H);
    ensure_size(normed, n * H);
    ensure_size(projected, n * H);
    ensure_size(q, n * q_width);
    ensure_size(context, n * q_width);
    ensure_size(k, n * kv_width);
    ensure_size(v, n * kv_width);
    ensure_size(gate, n * I);
    ensure_size(up, n * I);
    ensure_size(scratch, static_cast<std::int64_t>(threads()) * batch.seq_len * (batch.seq_len + m));
    if (capture != nullptr) capture->assign(static_cast<std::size_t>(2 * n * kv_width) * weights.num_layers(), 0.0f);
    const auto adapt = [&](std::size_t l, LoraTarget target, const float* x, float* y) {
      if (!lora_on) return;
      if (const model::LoraFactor* f = lora.find(l, target))
        model::add_lora(lora, peft, *f, x, n, y, lora_t, lora_u);
    };
    positions.resize(static_cast<std::size_t>(n));
    const float* embed = weights.embed();
    for (std::int64_t r = 0; r < batch.rows; ++r) {
      for (std::int64_t t = 0; t < batch.lengths[r]; ++t) {
        const std::int64_t i = row_offsets[static_cast<std::size_t>(r)] + t;
        positions[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(m + t);
        const std::int64_t id = batch.ids[static_cast<std::size_t>(r * batch.seq_len + t)];
        std::copy_n(embed + id * H, H, hidden.data() + i * H);
      }
    }
    const model::cpu::AttentionShape shape{.rows = batch.rows,
                                           .seq = batch.seq_len,
                                           .heads = c.num_attention_heads,
                                           .kv_heads = c.num_key_value_heads,
                                           .head_dim = d,
                                           .causal = true,
                                           .prefix = m,
                                           .row_offsets = row_offsets.data()};
    namespace cpu = model::cpu;
    for (std::size_t l = 0; l < weights.num_layers(); ++l) {
      const model::llama::LayerPointers& w = weights.layer(l);
      // Attention block: x + o(attention(rope(q), rope(k), v)) of rms_norm(x).
      cpu::rms_norm(hidden.data(), n, H, w[Slot::attn_norm], c.rms_norm_eps, normed.data());
      cpu::linear(normed.data(), n, H, w[Slot::q_w], w[Slot::q_b], q_width, q.data());
      adapt(l, LoraTarget::query, normed.data(), q.data());
      cpu::linear(normed.data(), n, H, w[Slot::k_w], w[Slot::k_b], kv_width, k.data());
      adapt(l, LoraTarget::key, normed.data(), k.data());
      cpu::linear(normed.data(), n, H, w[Slot::v_w], w[Slot::v_b], kv_width, v.data());
      adapt(l, LoraTarget::value, normed.data(), v.data());
      cpu::rope(q.data(), n, c.num_attention_heads, d, positions.data(), inv_freq.data());
      cpu::rope(k.data(), n, c.num_key_value_heads, d, positions.data(), inv_freq.data());
      if (capture != nullptr) {
        float* out = capture->data() + static_cast<std::ptrdiff_t>(2 * l * n * kv_width);
        std::copy_n(k.data(), n * kv_width, out);
        std::copy_n(v.data(), n * kv_width, out + n * kv_width);
      }
      cpu::attention(shape, q.data(), k.data(), v.data(), batch.lengths.data(), context.data(),
                     scratch.data(), threads(), m > 0 ? peft.at(prefix.keys[l]) : nullptr,
                     m > 0 ? peft.at(prefix.values[l]) : nullptr);
      cpu::linear(context.data(), n, q_width, w[Slot::o_w], w[Slot::o_b], H, projected.data());
      adapt(l, LoraTarget::attention_output, context.data(), projected.data());
      cpu::add_scaled(hidden.data(), projected.data(), n * H, 1.0f);
      // MLP block: x + down(silu(gate(h)) · up(h)), h = rms_norm(x).
      cpu::rms_norm(hidden.data(), n, H, w[Slot::mlp_norm], c.rms_norm_eps, normed.data());
      cpu::linear(normed.data(), n, H, w[Slot::gate_w], nullptr, I, gate.data());
      adapt(l, LoraTarget::gate, normed.data(), gate.data());
      cpu::linear(normed.data(), n, H, w[Slot::up_w], nullptr, I, up.data());
      adapt(l, LoraTarget::intermediate, normed.data(), up.data());
      cpu::swiglu(gate.data(), up.data(), n * I);
      cpu::linear(gate.data(), n, I, w[Slot::down_w], nullptr, H, projected.data());
      adapt(l, LoraTarget::output, gate.data(), projected.data());
      cpu::add_scaled(hidden.data(), projected.data(), n * H, 1.0f);
    }
  }
};

CausalLM::CausalLM(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CausalLM::CausalLM(CausalLM&&) noexcept = default;
CausalLM& CausalLM::operator=(CausalLM&&) noexcept = default;
CausalLM::~CausalLM() = default;

CausalLM CausalLM::load(const std::filesystem::path& path, const ModelOptions& options) {
  check_options(options);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    const DecoderConfig config = load_decoder_config(path / "config.json");
    const auto checkpoint = detail::HfCheckpoint::open(path);
    return CausalLM(std::make_unique<Impl>(
        config, options, DecoderWeights(config, checkpoint, options.untie_head)));
  }
  const GgufFile file = GgufFile::open(path);
  const DecoderConfig config = decoder_config_from_gguf(file);
  auto impl =
      std::make_unique<Impl>(config, options, DecoderWeights(config, file, options.untie_head));
  impl->carried_metadata = model::llama::carried_gguf_metadata(file);
  return CausalLM(std::move(impl));
}

CausalLM CausalLM::random(const DecoderConfig& config, std::uint64_t seed,
                          const ModelOptions& options) {
  check_options(options);
  return CausalLM(
      std::make_unique<Impl>(config, options, DecoderWeights(config, seed, options.untie_head)));
}

const DecoderConfig& CausalLM::config() const { return impl_->config; }
const std::string& CausalLM::stored_types() const { return impl_->weights.stored_types(); }
const char* CausalLM::architecture() const { return to_string(impl_->config.arch); }
std::int64_t CausalLM::vocab_size() const { return impl_->config.vocab_size; }
std::int64_t CausalLM::max_sequence_length() const {
  return impl_->config.max_position_embeddings;
}
const ParamSet& CausalLM::params() const { return impl_->weights.params(); }
const ParamSet& CausalLM::peft_params() const { return impl_->peft.params(); }

namespace {
[[noreturn]] void peft_error(const std::string& message) {
  throw Error(ErrorCode::invalid_argument, "CausalLM: " + message);
}
}  // namespace

void CausalLM::enable_lora(const LoraOptions& options) {
  Impl& m = *impl_;
  if (m.lora.enabled) peft_error("LoRA is already enabled (enable_lora may be called once)");
  // Every projection the family's table gives a LoRA role.
  const DecoderWeights& w = m.weights;
  std::vector<model::LoraSite> sites;
  for (std::size_t i = 0; i < w.table().size(); ++i) {
    const model::llama::TensorSpec& spec = w.table()[i];
    if (!spec.lora) continue;
    const std::string module = spec.hf_name.substr(0, spec.hf_name.size() - std::string(".weight").size());
    sites.push_back({static_cast<std::size_t>(spec.layer), *spec.lora, module, spec.shape[1],
                     spec.shape[0], w.data(i)});
  }
  m.lora = model::make_lora(sites, w.num_layers(), options, m.peft);
  if (options.train_head) {
    // The final norm and an untied LM head, as views onto the model's weights
    // (a head tied to the token embeddings is not trained: it is the input table too).
    const auto views = w.params().views();
    for (std::size_t i = 0; i < w.table().size(); ++i) {
      const Slot slot = w.table()[i].slot;
      if (slot == Slot::final_norm || slot == Slot::lm_head)
        m.peft.add_external(views[i].name, views[i].f32(), views[i].size);
    }
  }
}

void CausalLM::enable_prefix(const PrefixOptions& options) {
  Impl& m = *impl_;
  if (m.prefix.enabled)
    peft_error("prefix tuning is already enabled (enable_prefix may be called once)");
  const DecoderConfig& c = m.config;
  const model::PrefixShape shape{.layers = c.num_hidden_layers,
                                 .width = c.num_key_value_heads * c.head_dim,
                                 .max_tokens = c.max_position_embeddings - 1,
                                 .vocab_size = c.vocab_size,
                                 .excluded_id = -1,
                                 .layer_name = "model.layers.{}.self_attn.prefix_"};
  model::validate_prefix(shape, options);
  std::vector<float> kv;
  std::vector<std::int32_t> ids;
  if (options.init == PrefixInit::real_activations && options.tokens > 0) {
    // The frozen model on the m tokens as one sequence from position 0: their
    // keys (after RoPE) and values are exactly a cache of those tokens.
    ids = model::draw_prefix_tokens(shape, options.tokens, options.seed);
    const TokenBatch batch{1, options.tokens, ids, {options.tokens}};
    model::ThreadScope scope(m.threads());
    m.forward(batch, /*use_peft=*/false, &kv);
  }
  model::PrefixState state = model::make_prefix(shape, options, m.peft);
  if (!kv.empty()) model::fill_prefix(state, kv, shape.width, m.peft);
  state.token_ids = std::move(ids);
  m.prefix = std::move(state);
}

std::span<const std::int32_t> CausalLM::prefix_token_ids() const {
  return impl_->prefix.token_ids;
}

void CausalLM::logits(const TokenBatch& batch, std::span<const TokenQuery> queries,
                      std::span<const std::int32_t> vocab_ids, std::span<float> out) {
  Impl& m = *impl_;
  const DecoderConfig& c = m.config;
  // A prefix takes the first positions of the model's range.
  model::validate_score_request(batch, queries, vocab_ids, out.size(), c.vocab_size,
                                c.max_position_embeddings - m.prefix_tokens(true), "CausalLM",
                                "CausalLM::logits");
  model::ThreadScope scope(m.threads());
  m.forward(batch);
  const std::int64_t H = c.hidden_size;
  const auto nq = static_cast<std::int64_t>(queries.size());
  // The final norm and the head run on the queried positions only.
  ensure_size(m.head_in, nq * H);
  for (std::int64_t i = 0; i < nq; ++i) {
    const std::int64_t token =
        m.row_offsets[static_cast<std::size_t>(queries[i].row)] + queries[i].position;
    model::cpu::rms_norm(m.hidden.data() + token * H, 1, H, m.weights.final_norm(), c.rms_norm_eps,
                         m.head_in.data() + i * H);
  }
  const float* head = m.weights.lm_head();
  if (vocab_ids.empty()) {
    model::cpu::linear(m.head_in.data(), nq, H, head, nullptr, c.vocab_size, out.data());
    return;
  }
  const auto columns = static_cast<std::int64_t>(vocab_ids.size());
  for (std::int64_t i = 0; i < nq; ++i) {
    const float* h = m.head_in.data() + i * H;
    for (std::int64_t j = 0; j < columns; ++j) {
      const float* row = head + static_cast<std::int64_t>(vocab_ids[j]) * H;
      float dot = 0.0f;
      for (std::int64_t e = 0; e < H; ++e) dot += h[e] * row[e];
      out[static_cast<std::size_t>(i * columns + j)] = dot;
    }
  }
}

void CausalLM::save_gguf(const std::filesystem::path& path, GgmlType matrix_type) const {
  model::llama::write_decoder_gguf(path, impl_->config, impl_->weights, impl_->carried_metadata,
                                   matrix_type);
}

void CausalLM::save_pretrained(const std::filesystem::path& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw Error(ErrorCode::io,
                fmt::format("cannot create model folder '{}': {}", dir.string(), ec.message()));
  }
  const DecoderWeights& w = impl_->weights;
  std::vector<TensorF32View> tensors;
  for (std::size_t i = 0; i < w.table().size(); ++i) {
    const auto& spec = w.table()[i];
    tensors.push_back({spec.hf_name, spec.shape,
                       {w.data(i), static_cast<std::size_t>(spec.num_elements())}});
  }
  const std::string config = decoder_config_to_json(impl_->config);
  detail::write_file_atomically(dir / "config.json", config.data(), config.size());
  write_safetensors(dir / "model.safetensors", tensors);
}

MEZO_END_NAMESPACE
