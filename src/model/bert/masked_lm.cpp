#include "mezo/model/masked_lm.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "file_io.hpp"
#include "mezo/error.hpp"
#include "mezo/io/safetensors.hpp"
#include "model/batch_checks.hpp"
#include "model/bert/weights.hpp"
#include "model/forward_support.hpp"
#include "model/ops/ops.hpp"
#include "model/ops/projector.hpp"
#include "model/peft/peft_state.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

using model::ensure_size;
using model::ThreadScope;

void check_options(const MaskedLMOptions& options) {
  if (options.num_threads < 0) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("MaskedLMOptions: num_threads must be >= 0, got {}", options.num_threads));
  }
}

}  // namespace

struct MaskedLM::Impl {
  TransformerConfig config;
  MaskedLMOptions options;
  model::WeightStore store;
  // Activations of one batch, reused across forwards.
  std::vector<float> hidden, q, k, v, context, scratch, intermediate, scores;
  std::vector<float> head_in, head_hidden;
  std::vector<std::int32_t> positions;
  // Parameter-efficient fine-tuning: the trainable tensors and their layout.
  model::PeftBuffer peft;
  model::LoraState lora;
  model::PrefixState prefix;
  std::vector<float> lora_t, lora_u;
  model::cpu::Projector project;  // the projections, in options.compute

  Impl(const TransformerConfig& c, const SafetensorsFile& file, const MaskedLMOptions& o)
      : config(c), options(o), store(c, file, o.untie_decoder), project(o.compute) {}
  Impl(const TransformerConfig& c, std::uint64_t seed, const MaskedLMOptions& o)
      : config(c), options(o), store(c, seed, o.untie_decoder), project(o.compute) {}

  std::size_t w_layers() const { return store.weights().layers.size(); }

  int threads() const { return model::resolve_threads(options.num_threads); }

  // Runs embeddings and every encoder layer; leaves the result in `hidden`.
  // use_peft = false runs the frozen base model (LoRA and prefix left out);
  // `capture`, if given, receives each layer's keys and values,
  // [layer][k, v][rows·seq × hidden].
  void encode(const TokenBatch& batch, bool use_peft = true,
              std::vector<float>* capture = nullptr) {
    model::validate_batch(config, batch, "MaskedLM");
    const std::int64_t H = config.hidden_size, I = config.intermediate_size;
    const std::int64_t n = batch.rows * batch.seq_len;
    const bool lora_on = use_peft && lora.enabled && !lora.merged;
    if (use_peft && lora.merged) model::check_merged_factors(lora, peft);
    const std::int64_t m = use_peft && prefix.enabled ? prefix.tokens : 0;
    for (auto* buffer : {&hidden, &q, &k, &v, &context}) ensure_size(*buffer, n * H);
    ensure_size(intermediate, n * I);
    ensure_size(scratch,
                static_cast<std::int64_t>(threads()) * batch.seq_len * (batch.seq_len + m));
    model::position_ids(config, batch, positions);
    if (capture != nullptr) capture->assign(static_cast<std::size_t>(2 * n * H) * w_layers(), 0.0f);
    const auto adapt = [&](std::size_t l, LoraTarget target, const float* x, float* y) {
      if (!lora_on) return;
      if (const model::LoraFactor* f = lora.find(l, target))
        model::add_lora(lora, peft, *f, x, n, y, lora_t, lora_u);
    };

    const model::ModelWeights& w = store.weights();
    for (std::int64_t i = 0; i < n; ++i) {
      const float* word = w.word_embeddings + static_cast<std::int64_t>(batch.ids[i]) * H;
      const float* position = w.position_embeddings + static_cast<std::int64_t>(positions[i]) * H;
      const float* token_type = w.token_type_embeddings;  // every token is segment 0
      float* out = hidden.data() + i * H;
      for (std::int64_t j = 0; j < H; ++j) out[j] = word[j] + token_type[j] + position[j];
    }
    model::cpu::add_layer_norm(hidden.data(), nullptr, n, H, w.embeddings_ln_w, w.embeddings_ln_b,
                               config.layer_norm_eps);

    for (std::size_t l = 0; l < w.layers.size(); ++l) {
      const model::LayerWeights& layer = w.layers[l];
      project(hidden.data(), n, H, layer.query_w, layer.query_b, H, q.data());
      adapt(l, LoraTarget::query, hidden.data(), q.data());
      project(hidden.data(), n, H, layer.key_w, layer.key_b, H, k.data());
      adapt(l, LoraTarget::key, hidden.data(), k.data());
      project(hidden.data(), n, H, layer.value_w, layer.value_b, H, v.data());
      adapt(l, LoraTarget::value, hidden.data(), v.data());
      if (capture != nullptr) {
        float* out = capture->data() + static_cast<std::ptrdiff_t>(2 * l * n * H);
        std::copy_n(k.data(), n * H, out);
        std::copy_n(v.data(), n * H, out + n * H);
      }
      const model::cpu::AttentionShape shape{.rows = batch.rows,
                                             .seq = batch.seq_len,
                                             .heads = config.num_attention_heads,
                                             .kv_heads = config.num_attention_heads,
                                             .head_dim = config.head_dim(),
                                             .causal = false,
                                             .prefix = m};
      model::cpu::attention(shape, q.data(), k.data(), v.data(), batch.lengths.data(),
                            context.data(), scratch.data(), threads(),
                            m > 0 ? peft.at(prefix.keys[l]) : nullptr,
                            m > 0 ? peft.at(prefix.values[l]) : nullptr);
      project(context.data(), n, H, layer.attn_out_w, layer.attn_out_b, H, q.data());
      adapt(l, LoraTarget::attention_output, context.data(), q.data());
      model::cpu::add_layer_norm(hidden.data(), q.data(), n, H, layer.attn_ln_w, layer.attn_ln_b,
                                 config.layer_norm_eps);
      project(hidden.data(), n, H, layer.inter_w, layer.inter_b, I, intermediate.data());
      adapt(l, LoraTarget::intermediate, hidden.data(), intermediate.data());
      model::cpu::gelu(intermediate.data(), n * I);
      project(intermediate.data(), n, I, layer.out_w, layer.out_b, H, q.data());
      adapt(l, LoraTarget::output, intermediate.data(), q.data());
      model::cpu::add_layer_norm(hidden.data(), q.data(), n, H, layer.out_ln_w, layer.out_ln_b,
                                 config.layer_norm_eps);
    }
  }
};

MaskedLM::MaskedLM(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MaskedLM::MaskedLM(MaskedLM&&) noexcept = default;
MaskedLM& MaskedLM::operator=(MaskedLM&&) noexcept = default;
MaskedLM::~MaskedLM() = default;

const char* MaskedLM::architecture() const { return to_string(impl_->config.model_type); }
std::int64_t MaskedLM::max_sequence_length() const {
  return model::max_sequence_length(impl_->config);
}

MaskedLM MaskedLM::load(const std::filesystem::path& model_dir, const MaskedLMOptions& options) {
  const TransformerConfig config = load_transformer_config(model_dir / "config.json");
  return load(config, model_dir / "model.safetensors", options);
}

MaskedLM MaskedLM::load(const TransformerConfig& config, const std::filesystem::path& safetensors,
                        const MaskedLMOptions& options) {
  check_options(options);
  const SafetensorsFile file = SafetensorsFile::open(safetensors);
  return MaskedLM(std::make_unique<Impl>(config, file, options));
}

MaskedLM MaskedLM::random(const TransformerConfig& config, std::uint64_t seed,
                          const MaskedLMOptions& options) {
  check_options(options);
  return MaskedLM(std::make_unique<Impl>(config, seed, options));
}

const TransformerConfig& MaskedLM::config() const { return impl_->config; }
void MaskedLM::save_pretrained(const std::filesystem::path& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw Error(ErrorCode::io,
                fmt::format("cannot create model folder '{}': {}", dir.string(), ec.message()));
  }
  const std::string config = transformer_config_to_json(impl_->config);
  detail::write_file_atomically(dir / "config.json", config.data(), config.size());
  write_safetensors(dir / "model.safetensors", impl_->store.tensors());
}

bool MaskedLM::has_mlm_head() const { return impl_->store.has_mlm_head(); }

void MaskedLM::mean_pooled(const TokenBatch& batch, std::span<float> out) {
  ThreadScope scope(impl_->threads());
  const std::int64_t H = impl_->config.hidden_size;
  if (static_cast<std::int64_t>(out.size()) != batch.rows * H) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("MaskedLM::mean_pooled: output holds {} floats, needs {} rows × {}",
                            out.size(), batch.rows, H));
  }
  impl_->encode(batch);
  for (std::int64_t r = 0; r < batch.rows; ++r) {
    float* pooled = out.data() + r * H;
    std::fill_n(pooled, H, 0.0f);
    for (std::int64_t t = 0; t < batch.lengths[r]; ++t) {
      const float* h = impl_->hidden.data() + (r * batch.seq_len + t) * H;
      for (std::int64_t e = 0; e < H; ++e) pooled[e] += h[e];
    }
    const float inv = 1.0f / static_cast<float>(batch.lengths[r]);
    for (std::int64_t e = 0; e < H; ++e) pooled[e] *= inv;
  }
}
const ParamSet& MaskedLM::params() const { return impl_->store.params(); }

void MaskedLM::last_hidden_state(const TokenBatch& batch, std::span<float> out) {
  ThreadScope scope(impl_->threads());
  const std::int64_t size = batch.rows * batch.seq_len * impl_->config.hidden_size;
  if (static_cast<std::int64_t>(out.size()) != size) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("MaskedLM::last_hidden_state: output holds {} floats, needs {}",
                            out.size(), size));
  }
  impl_->encode(batch);
  std::copy_n(impl_->hidden.begin(), size, out.begin());
}

void MaskedLM::mlm_logits(const TokenBatch& batch, std::span<const MaskQuery> queries,
                          std::span<const std::int32_t> vocab_ids, std::span<float> out) {
  Impl& m = *impl_;
  if (!m.store.has_mlm_head()) {
    throw Error(ErrorCode::unsupported,
                "MaskedLM::mlm_logits: this checkpoint has no masked-LM head (an encoder-only "
                "model such as a sentence encoder); use mean_pooled() with a similarity head");
  }
  ThreadScope scope(m.threads());
  const std::int64_t H = m.config.hidden_size;
  const std::int64_t nq = static_cast<std::int64_t>(queries.size());
  const std::int64_t columns =
      vocab_ids.empty() ? m.config.vocab_size : static_cast<std::int64_t>(vocab_ids.size());
  model::validate_mlm_request(m.config, batch, queries, vocab_ids, out.size(),
                              "MaskedLM::mlm_logits");
  m.encode(batch);

  // The head runs on the queried positions only.
  ensure_size(m.head_in, nq * H);
  ensure_size(m.head_hidden, nq * H);
  for (std::int64_t i = 0; i < nq; ++i) {
    const float* row = m.hidden.data() + (queries[i].row * batch.seq_len + queries[i].position) * H;
    std::copy_n(row, H, m.head_in.data() + i * H);
  }
  const model::ModelWeights& w = m.store.weights();
  model::cpu::linear(m.head_in.data(), nq, H, w.head_dense_w, w.head_dense_b, H,
                     m.head_hidden.data());
  model::cpu::gelu(m.head_hidden.data(), nq * H);
  model::cpu::add_layer_norm(m.head_hidden.data(), nullptr, nq, H, w.head_ln_w, w.head_ln_b,
                             m.config.layer_norm_eps);
  if (vocab_ids.empty()) {
    model::cpu::linear(m.head_hidden.data(), nq, H, w.decoder_w, w.decoder_b, columns, out.data());
    return;
  }
  model::cpu::linear_rows(m.head_hidden.data(), nq, H, w.decoder_w, w.decoder_b, vocab_ids.data(),
                          columns, out.data());
}

// ---- Parameter-efficient fine-tuning ----

namespace {
[[noreturn]] void peft_error(const std::string& message) {
  throw Error(ErrorCode::invalid_argument, "MaskedLM: " + message);
}
}  // namespace

void MaskedLM::enable_lora(const LoraOptions& options) {
  Impl& m = *impl_;
  if (m.lora.enabled) peft_error("LoRA is already enabled (enable_lora may be called once)");
  if (options.train_head && !m.store.has_mlm_head())
    peft_error("LoraOptions: train_head needs an MLM head, and this checkpoint has none");
  // Every projection the family's table gives a LoRA role, in table order.
  const model::WeightStore& store = m.store;
  std::vector<model::LoraSite> sites;
  for (std::size_t i = 0; i < store.table().size(); ++i) {
    const model::bert::TensorSpec& spec = store.table()[i];
    if (!spec.lora) continue;
    sites.push_back({static_cast<std::size_t>(spec.layer), *spec.lora,
                     model::bert::lora_module(spec, store.naming()), spec.shape[1], spec.shape[0],
                     store.data(i)});
  }
  m.lora = model::make_lora(sites, m.w_layers(), options, m.peft);
  if (options.train_head) {
    // The head's own tensors, as views onto the model's weights (a decoder
    // tied to the word embeddings is not among them).
    const auto views = store.params().views();
    for (std::size_t i = 0; i < store.table().size(); ++i) {
      if (store.table()[i].is_head)
        m.peft.add_external(views[i].name, views[i].f32(), views[i].size);
    }
  }
}

void MaskedLM::enable_prefix(const PrefixOptions& options) {
  Impl& m = *impl_;
  if (m.prefix.enabled)
    peft_error("prefix tuning is already enabled (enable_prefix may be called once)");
  if (m.lora.merged) peft_error("enable_prefix while LoRA is merged: unmerge_lora() first");
  // Never the pad id, which would change RoBERTa's position ids.
  const model::PrefixShape shape{.layers = m.config.num_hidden_layers,
                                 .width = m.config.hidden_size,
                                 .max_tokens = model::max_sequence_length(m.config),
                                 .vocab_size = m.config.vocab_size,
                                 .excluded_id = m.config.pad_token_id,
                                 .layer_name = "encoder.layer.{}.attention.prefix_"};
  model::validate_prefix(shape, options);
  std::vector<float> kv;
  std::vector<std::int32_t> ids;
  if (options.init == PrefixInit::real_activations && options.tokens > 0) {
    // The frozen model on the m tokens as one sequence, with the positions
    // and token types any sequence gets; no special tokens, as the MeZO code.
    ids = model::draw_prefix_tokens(shape, options.tokens, options.seed);
    TokenBatch batch{1, options.tokens, ids, {options.tokens}};
    ThreadScope scope(m.threads());
    m.encode(batch, /*use_peft=*/false, &kv);
  }
  model::PrefixState state = model::make_prefix(shape, options, m.peft);
  if (!kv.empty()) model::fill_prefix(state, kv, shape.width, m.peft);
  state.token_ids = std::move(ids);
  m.prefix = std::move(state);
}

bool MaskedLM::lora_enabled() const { return impl_->lora.enabled; }
bool MaskedLM::prefix_enabled() const { return impl_->prefix.enabled; }
const ParamSet& MaskedLM::peft_params() const { return impl_->peft.params(); }
std::span<const std::int32_t> MaskedLM::prefix_token_ids() const { return impl_->prefix.token_ids; }

void MaskedLM::merge_lora() {
  Impl& m = *impl_;
  if (!m.lora.enabled) peft_error("merge_lora: LoRA is not enabled");
  if (m.lora.merged) peft_error("merge_lora: LoRA is already merged");
  model::merge_lora(m.lora, m.peft);
}

void MaskedLM::unmerge_lora() {
  Impl& m = *impl_;
  if (!m.lora.merged) peft_error("unmerge_lora: LoRA is not merged");
  model::unmerge_lora(m.lora);
}

bool MaskedLM::lora_merged() const { return impl_->lora.merged; }

MEZO_END_NAMESPACE
