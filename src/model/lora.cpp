// LoRA on a MaskedLM: y = x·Wᵀ + b + (alpha / rank)·(x·Aᵀ)·Bᵀ, never merged
// while training (see mezo/model/peft.hpp and MaskedLM::merge_lora).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "mezo/counter_rng.hpp"
#include "mezo/error.hpp"
#include "model/ops/ops.hpp"
#include "model/peft_state.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

constexpr std::array<const char*, model::kNumLoraTargets> kTargetNames = {
    "query", "key", "value", "attention_output", "intermediate", "output", "gate"};
// The same roles under their short names (q_proj, up_proj, ... of decoders).
constexpr std::array<const char*, model::kNumLoraTargets> kShortNames = {"q",  "k",    "v",   "o",
                                                                         "up", "down", "gate"};
// Where each target sits in the Hugging Face module tree, for the tensor names.
constexpr std::array<const char*, model::kNumLoraTargets> kModulePaths = {
    "attention.self.query",   "attention.self.key", "attention.self.value",
    "attention.output.dense", "intermediate.dense", "output.dense", nullptr};

[[noreturn]] void fail(const std::string& message) {
  throw Error(ErrorCode::invalid_argument, message);
}

}  // namespace

const char* to_string(LoraTarget target) noexcept {
  return kTargetNames[static_cast<std::size_t>(target)];
}

LoraTarget parse_lora_target(std::string_view name) {
  for (std::size_t i = 0; i < kTargetNames.size(); ++i) {
    if (name == kTargetNames[i] || name == kShortNames[i]) return static_cast<LoraTarget>(i);
  }
  fail(
      fmt::format("unknown LoRA target '{}': expected q, k, v, o, gate, up or down (or the "
                  "encoder spellings query, key, value, attention_output, intermediate, output)",
                  name));
}

namespace model {

LoraState make_lora(const TransformerConfig& c, const ModelWeights& w, const ParamSet& base,
                    bool has_head, const LoraOptions& o, PeftBuffer& buffer) {
  if (o.rank < 1) fail(fmt::format("LoraOptions: rank must be >= 1, got {}", o.rank));
  if (!(o.alpha > 0) || !std::isfinite(o.alpha))
    fail(fmt::format("LoraOptions: alpha must be finite and > 0, got {}", o.alpha));
  if (o.targets.empty()) fail("LoraOptions: no targets (at least one of query, value, ...)");
  std::array<bool, kNumLoraTargets> chosen{};
  for (const LoraTarget t : o.targets) {
    const auto i = static_cast<std::size_t>(t);
    if (i >= kNumLoraTargets) fail(fmt::format("LoraOptions: unknown target {}", i));
    if (chosen[i]) fail(fmt::format("LoraOptions: target '{}' is listed twice", to_string(t)));
    chosen[i] = true;
  }
  if (o.train_head && !has_head)
    fail("LoraOptions: train_head needs an MLM head, and this checkpoint has none");
  if (chosen[static_cast<std::size_t>(LoraTarget::gate)])
    fail("LoraOptions: target 'gate' is a decoder's gated-MLP projection; encoders have none");

  LoraState s;
  s.enabled = true;
  s.rank = o.rank;
  s.scale = o.alpha / static_cast<float>(o.rank);
  const std::int64_t H = c.hidden_size, I = c.intermediate_size, r = o.rank;
  for (std::size_t l = 0; l < w.layers.size(); ++l) {
    const LayerWeights& lw = w.layers[l];
    const std::array<const float*, kNumLoraTargets> matrices = {
        lw.query_w, lw.key_w, lw.value_w, lw.attn_out_w, lw.inter_w, lw.out_w, nullptr};
    const std::array<std::int64_t, kNumLoraTargets> ins = {H, H, H, H, H, I, 0};
    const std::array<std::int64_t, kNumLoraTargets> outs = {H, H, H, H, I, H, 0};
    auto& row = s.index.emplace_back();
    row.fill(-1);
    // Targets in their fixed order, not the order listed: the same set of
    // targets gives the same tensor order, hence the same z.
    for (std::size_t t = 0; t < kNumLoraTargets; ++t) {
      if (!chosen[t]) continue;
      const std::string name = fmt::format("encoder.layer.{}.{}", l, kModulePaths[t]);
      LoraFactor f;
      f.in = ins[t];
      f.out = outs[t];
      f.w = matrices[t];
      f.a = buffer.add(name + ".lora_A.weight", static_cast<std::uint64_t>(r * f.in));
      f.b = buffer.add(name + ".lora_B.weight", static_cast<std::uint64_t>(f.out * r));
      row[t] = static_cast<int>(s.factors.size());
      s.factors.push_back(f);
    }
  }
  // A ~ U(−1/√in, 1/√in): kaiming_uniform_(a = √5) as nn.Linear and the LoRA
  // reference initialise it; B stays zero. Element j of factor k takes Philox
  // word j of a stream keyed by (seed, k).
  for (std::size_t k = 0; k < s.factors.size(); ++k) {
    const LoraFactor& f = s.factors[k];
    const float bound = 1.0f / std::sqrt(static_cast<float>(f.in));
    const std::uint64_t key = rng::mix64(o.seed ^ rng::mix64(k + 0x4C6F5241ull));
    float* a = buffer.at(f.a);
    const std::int64_t count = r * f.in;
    for (std::int64_t j = 0; j < count; ++j) {
      const auto block = rng::philox_block(key, static_cast<std::uint64_t>(j) >> 2);
      const float u = rng::uniform_open1(block.v[j & 3]);  // [0, 1)
      a[j] = (2.0f * u - 1.0f) * bound;
    }
  }
  if (o.train_head) {
    // The head's tensors follow the encoder's in the base set; a decoder tied
    // to the word embeddings is not among them.
    const std::size_t first_head = 5 + 16 * w.layers.size();
    for (std::size_t i = first_head; i < base.views().size(); ++i) {
      const ParamView& v = base.views()[i];
      buffer.add_external(v.name, v.f32(), v.size);
    }
  }
  return s;
}

void add_lora(const LoraState& lora, const PeftBuffer& buffer, const LoraFactor& f, const float* x,
              std::int64_t n, float* y, std::vector<float>& t, std::vector<float>& u) {
  if (t.size() < static_cast<std::size_t>(n * lora.rank)) t.resize(n * lora.rank);
  if (u.size() < static_cast<std::size_t>(n * f.out)) u.resize(n * f.out);
  cpu::linear(x, n, f.in, buffer.at(f.a), nullptr, lora.rank, t.data());
  cpu::linear(t.data(), n, lora.rank, buffer.at(f.b), nullptr, f.out, u.data());
  // With B = 0, u is +0 everywhere and y + scale·(+0) keeps y's bits (only a
  // y of exactly −0 would become +0): the adapted model at init is the base.
  cpu::add_scaled(y, u.data(), n * f.out, lora.scale);
}

void merge_lora(LoraState& lora, const PeftBuffer& buffer) {
  lora.saved_w.clear();
  lora.snapshot.clear();
  const std::int64_t r = lora.rank;
  for (const LoraFactor& f : lora.factors) {
    // The model's own buffer, reached through the const view it is indexed by.
    float* w = const_cast<float*>(f.w);
    lora.saved_w.insert(lora.saved_w.end(), w, w + f.out * f.in);
    const float* a = buffer.at(f.a);
    const float* b = buffer.at(f.b);
    lora.snapshot.insert(lora.snapshot.end(), a, a + r * f.in);
    lora.snapshot.insert(lora.snapshot.end(), b, b + f.out * r);
    for (std::int64_t o = 0; o < f.out; ++o) {
      for (std::int64_t i = 0; i < f.in; ++i) {
        float delta = 0.0f;
        for (std::int64_t k = 0; k < r; ++k) delta += b[o * r + k] * a[k * f.in + i];
        w[o * f.in + i] += lora.scale * delta;
      }
    }
  }
  lora.merged = true;
}

void unmerge_lora(LoraState& lora) {
  std::size_t at = 0;
  for (const LoraFactor& f : lora.factors) {
    const auto count = static_cast<std::size_t>(f.out * f.in);
    std::copy_n(lora.saved_w.begin() + static_cast<std::ptrdiff_t>(at), count,
                const_cast<float*>(f.w));
    at += count;
  }
  lora.saved_w = {};
  lora.snapshot = {};
  lora.merged = false;
}

void check_merged_factors(const LoraState& lora, const PeftBuffer& buffer) {
  std::size_t at = 0;
  const std::int64_t r = lora.rank;
  for (const LoraFactor& f : lora.factors) {
    for (const auto& [offset, count] : {std::pair{f.a, r * f.in}, std::pair{f.b, f.out * r}}) {
      if (std::memcmp(buffer.at(offset), lora.snapshot.data() + at,
                      static_cast<std::size_t>(count) * sizeof(float)) != 0) {
        fail(
            "MaskedLM: the LoRA factors changed while merged into the base weights, so the "
            "change never reaches the forward; call unmerge_lora() before training (merge only "
            "to export)");
      }
      at += static_cast<std::size_t>(count);
    }
  }
}

}  // namespace model
MEZO_END_NAMESPACE
