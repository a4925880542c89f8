// LoRA on any model family: y = x·Wᵀ + b + (alpha / rank)·(x·Aᵀ)·Bᵀ, never
// merged while training (see mezo/model/peft.hpp and LanguageModel::merge_lora).
// The model names its adaptable projections (LoraSite); this file validates,
// lays out, initialises, applies and merges the factors.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "mezo/counter_rng.hpp"
#include "mezo/error.hpp"
#include "model/ops/ops.hpp"
#include "model/peft/peft_state.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

constexpr std::array<const char*, model::kNumLoraTargets> kTargetNames = {
    "query", "key", "value", "attention_output", "intermediate", "output", "gate"};
// The same roles under their short names (q_proj, up_proj, ... of decoders).
constexpr std::array<const char*, model::kNumLoraTargets> kShortNames = {"q",  "k",    "v",   "o",
                                                                         "up", "down", "gate"};

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

LoraState make_lora(std::span<const LoraSite> sites, std::size_t num_layers, const LoraOptions& o,
                    PeftBuffer& buffer) {
  if (o.rank < 1) fail(fmt::format("LoraOptions: rank must be >= 1, got {}", o.rank));
  if (!(o.alpha > 0) || !std::isfinite(o.alpha))
    fail(fmt::format("LoraOptions: alpha must be finite and > 0, got {}", o.alpha));
  if (o.targets.empty()) fail("LoraOptions: no targets (at least one of q, v, ...)");
  std::array<bool, kNumLoraTargets> chosen{};
  for (const LoraTarget t : o.targets) {
    const auto i = static_cast<std::size_t>(t);
    if (i >= kNumLoraTargets) fail(fmt::format("LoraOptions: unknown target {}", i));
    if (chosen[i]) fail(fmt::format("LoraOptions: target '{}' is listed twice", to_string(t)));
    chosen[i] = true;
    if (std::none_of(sites.begin(), sites.end(), [&](const LoraSite& s) { return s.target == t; }))
      fail(fmt::format("LoraOptions: this model has no '{}' projection to adapt", to_string(t)));
  }

  LoraState s;
  s.enabled = true;
  s.rank = o.rank;
  s.scale = o.alpha / static_cast<float>(o.rank);
  s.index.assign(num_layers, {});
  for (auto& row : s.index) row.fill(-1);
  const std::int64_t r = o.rank;
  // Sites in the model's fixed order, not the order the targets were listed:
  // the same set of targets gives the same tensor order, hence the same z.
  for (const LoraSite& site : sites) {
    if (!chosen[static_cast<std::size_t>(site.target)]) continue;
    LoraFactor f;
    f.in = site.in;
    f.out = site.out;
    f.w = site.w;
    f.a = buffer.add(site.module + ".lora_A.weight", static_cast<std::uint64_t>(r * f.in));
    f.b = buffer.add(site.module + ".lora_B.weight", static_cast<std::uint64_t>(f.out * r));
    s.index[site.layer][static_cast<std::size_t>(site.target)] = static_cast<int>(s.factors.size());
    s.factors.push_back(f);
  }
  // A ~ U(−1/√in, 1/√in): kaiming_uniform_(a = √5) as nn.Linear and the LoRA
  // reference initialise it; B stays zero. Element j of factor k takes Philox
  // word j of a stream keyed by (seed, k).
  for (std::size_t k = 0; k < s.factors.size(); ++k) {
    const LoraFactor& f = s.factors[k];
    const float bound = 1.0f / std::sqrt(static_cast<float>(f.in));
    const std::uint64_t key = rng::stream_key(o.seed, rng::Stream::lora_init, k);
    float* a = buffer.at(f.a);
    const std::int64_t count = r * f.in;
    for (std::int64_t j = 0; j < count; ++j) {
      const auto block = rng::philox_block(key, static_cast<std::uint64_t>(j) >> 2);
      const float u = rng::uniform_open1(block.v[j & 3]);  // [0, 1)
      a[j] = (2.0f * u - 1.0f) * bound;
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
            "the LoRA factors changed while merged into the base weights, so the change never "
            "reaches the forward; call unmerge_lora() before training (merge only to export)");
      }
      at += static_cast<std::size_t>(count);
    }
  }
}

}  // namespace model
MEZO_END_NAMESPACE
