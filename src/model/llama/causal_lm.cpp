// CausalLM: loading, saving, parameter-efficient variants and the LM head of
// a Llama-family decoder; the layers run in decoder_forward.cpp.
#include "mezo/model/causal_lm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <list>
#include <system_error>

#include "file_io.hpp"
#include "io/hf_checkpoint.hpp"
#include "mezo/error.hpp"
#include "mezo/io/safetensors.hpp"
#include "model/batch_checks.hpp"
#include "model/forward_support.hpp"
#include "model/llama/decoder_forward.hpp"
#include "model/llama/decoder_weights.hpp"
#include "model/llama/gguf_export.hpp"
#include "model/llama/rope_frequencies.hpp"
#include "model/ops/ops.hpp"
#include "model/peft/peft_state.hpp"

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
  model::llama::RopeTables rope;
  // The source GGUF's tokenizer.* and general.* metadata, for save_gguf.
  std::vector<std::pair<std::string, GgufValue>> carried_metadata;
  // Parameter-efficient fine-tuning: the trainable tensors and their layout.
  model::PeftBuffer peft;
  model::LoraState lora;
  model::PrefixState prefix;
  model::llama::DecoderForward forward;
  std::vector<float> head_in;  // the final norm of the queried positions

  Impl(const DecoderConfig& c, const ModelOptions& o, DecoderWeights w)
      : config(c),
        options(o),
        weights(std::move(w)),
        rope(model::llama::rope_tables(c)),
        forward(o.compute) {
    // A model trained with an untied head saves that head: its config says so.
    if (o.untie_head) config.tie_word_embeddings = false;
  }

  int threads() const { return model::resolve_threads(options.num_threads); }

  // The trained model (LoRA and prefix when enabled), or the frozen base. A
  // merged LoRA is in the base weights already.
  model::llama::Adapters adapters(bool use_peft) const {
    if (!use_peft) return {};
    return {.lora = lora.merged ? nullptr : &lora, .prefix = &prefix, .buffer = &peft};
  }

  void run(const TokenBatch& batch, bool use_peft, std::vector<float>* capture = nullptr,
           model::llama::DecoderCache* cache = nullptr) {
    if (use_peft && lora.merged) model::check_merged_factors(lora, peft);
    forward.run(config, weights, rope, adapters(use_peft), batch, threads(), capture, cache);
  }

  // out (count × vocab_size, or × vocab_ids.size()) = the head's logits after
  // the final norm of the last run's hidden states at `queries`.
  void head(std::span<const TokenQuery> queries, std::span<const std::int32_t> vocab_ids,
            float* out) {
    const std::int64_t H = config.hidden_size;
    const auto nq = static_cast<std::int64_t>(queries.size());
    // The final norm and the head run on the queried positions only.
    ensure_size(head_in, nq * H);
    for (std::int64_t i = 0; i < nq; ++i) {
      model::cpu::rms_norm(forward.hidden(queries[i].row, queries[i].position), 1, H,
                           weights.final_norm(), config.rms_norm_eps, head_in.data() + i * H);
    }
    if (vocab_ids.empty()) {
      model::cpu::linear(head_in.data(), nq, H, weights.lm_head(), nullptr, config.vocab_size, out);
      return;
    }
    model::cpu::linear_rows(head_in.data(), nq, H, weights.lm_head(), nullptr, vocab_ids.data(),
                            static_cast<std::int64_t>(vocab_ids.size()), out);
  }
};

struct KvCache::Impl {
  model::llama::DecoderCache entries;
  const void* owner = nullptr;  // the CausalLM::Impl that filled it; null while empty
  std::int64_t prefix = 0;      // prefix-tuning positions at its start
};

KvCache::KvCache() : impl_(std::make_unique<Impl>()) {}
KvCache::KvCache(KvCache&&) noexcept = default;
KvCache& KvCache::operator=(KvCache&&) noexcept = default;
KvCache::~KvCache() = default;

std::int64_t KvCache::tokens() const {
  return impl_->owner == nullptr ? 0 : impl_->entries.length - impl_->prefix;
}

void KvCache::clear() {
  for (auto* layers : {&impl_->entries.keys, &impl_->entries.values})
    for (auto& layer : *layers) layer.clear();
  impl_->entries.length = 0;
  impl_->owner = nullptr;
  impl_->prefix = 0;
}

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
    return CausalLM(std::make_unique<Impl>(config, options,
                                           DecoderWeights(config, checkpoint, options.untie_head)));
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
std::int64_t CausalLM::max_sequence_length() const { return impl_->config.max_position_embeddings; }
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
    const std::string module =
        spec.hf_name.substr(0, spec.hf_name.size() - std::string(".weight").size());
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
  if (m.lora.merged) peft_error("enable_prefix while LoRA is merged: unmerge_lora() first");
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
    m.run(batch, /*use_peft=*/false, &kv);
  }
  model::PrefixState state = model::make_prefix(shape, options, m.peft);
  if (!kv.empty()) model::fill_prefix(state, kv, shape.width, m.peft);
  state.token_ids = std::move(ids);
  m.prefix = std::move(state);
}

std::span<const std::int32_t> CausalLM::prefix_token_ids() const { return impl_->prefix.token_ids; }

void CausalLM::merge_lora() {
  Impl& m = *impl_;
  if (!m.lora.enabled) peft_error("merge_lora: LoRA is not enabled");
  if (m.lora.merged) peft_error("merge_lora: LoRA is already merged");
  model::merge_lora(m.lora, m.peft);
}

void CausalLM::unmerge_lora() {
  Impl& m = *impl_;
  if (!m.lora.merged) peft_error("unmerge_lora: LoRA is not merged");
  model::unmerge_lora(m.lora);
}

bool CausalLM::lora_merged() const { return impl_->lora.merged; }

void CausalLM::logits(const TokenBatch& batch, std::span<const TokenQuery> queries,
                      std::span<const std::int32_t> vocab_ids, std::span<float> out) {
  Impl& m = *impl_;
  const DecoderConfig& c = m.config;
  // A prefix takes the first positions of the model's range.
  model::validate_score_request(batch, queries, vocab_ids, out.size(), c.vocab_size,
                                c.max_position_embeddings - m.adapters(true).prefix_tokens(),
                                "CausalLM", "CausalLM::logits");
  model::ThreadScope scope(m.threads());
  m.run(batch, /*use_peft=*/true);
  m.head(queries, vocab_ids, out.data());
}

void CausalLM::decode(KvCache& cache, std::span<const std::int32_t> ids,
                      std::span<float> next_logits) {
  Impl& m = *impl_;
  KvCache::Impl& kv = *cache.impl_;
  const DecoderConfig& c = m.config;
  const auto fail = [](const std::string& message) {
    throw Error(ErrorCode::invalid_argument, "CausalLM::decode: " + message);
  };
  if (ids.empty()) fail("no token ids to read");
  if (next_logits.size() != static_cast<std::size_t>(c.vocab_size)) {
    fail(fmt::format("next_logits holds {} floats; the vocabulary has {}", next_logits.size(),
                     c.vocab_size));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= c.vocab_size)
      fail(fmt::format("id {} (index {}) is outside the vocabulary [0, {})", ids[i], i,
                       c.vocab_size));
  }
  if (kv.owner != nullptr && kv.owner != &m)
    fail("the KvCache holds another model's tokens; clear() it first");
  const std::int64_t prefix = m.adapters(true).prefix_tokens();
  const bool fresh = kv.owner == nullptr;
  const std::int64_t past = fresh ? prefix : kv.entries.length;
  const auto n = static_cast<std::int64_t>(ids.size());
  if (past + n > c.max_position_embeddings) {
    fail(fmt::format("{} tokens after {} would pass the model's {} positions", n, past,
                     c.max_position_embeddings));
  }
  if (fresh) {
    // A prefix is where every sequence starts: the cache's first entries.
    const std::size_t layers = m.weights.num_layers();
    kv.entries.keys.resize(layers);
    kv.entries.values.resize(layers);
    const std::int64_t width = c.num_key_value_heads * c.head_dim;
    for (std::size_t l = 0; l < layers; ++l) {
      const float* k = prefix > 0 ? m.peft.at(m.prefix.keys[l]) : nullptr;
      const float* v = prefix > 0 ? m.peft.at(m.prefix.values[l]) : nullptr;
      kv.entries.keys[l].assign(k, k + prefix * width);
      kv.entries.values[l].assign(v, v + prefix * width);
    }
    kv.entries.length = prefix;
  }
  const TokenBatch batch{1, n, {ids.begin(), ids.end()}, {static_cast<std::int32_t>(n)}};
  model::ThreadScope scope(m.threads());
  try {
    m.run(batch, /*use_peft=*/true, nullptr, &kv.entries);
  } catch (...) {
    if (fresh) cache.clear();
    throw;
  }
  kv.owner = &m;
  kv.prefix = prefix;
  const TokenQuery last{0, n - 1};
  m.head({&last, 1}, {}, next_logits.data());
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
  std::list<std::vector<float>>
      gains;  // Gemma's norm gains as Hugging Face stores them: w, not 1 + w
  for (std::size_t i = 0; i < w.table().size(); ++i) {
    const auto& spec = w.table()[i];
    std::span<const float> data(w.data(i), static_cast<std::size_t>(spec.num_elements()));
    if (spec.plus_one) {
      auto& stored = gains.emplace_back(data.begin(), data.end());
      for (float& g : stored) g -= 1.0f;
      data = stored;
    }
    tensors.push_back({spec.hf_name, spec.shape, data});
  }
  const std::string config = decoder_config_to_json(impl_->config);
  detail::write_file_atomically(dir / "config.json", config.data(), config.size());
  write_safetensors(dir / "model.safetensors", tensors);
}

MEZO_END_NAMESPACE
