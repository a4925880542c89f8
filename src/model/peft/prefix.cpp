// Prefix tuning on any model family: m trainable key and value vectors per
// layer, prepended in attention (see mezo/model/peft.hpp). The real-activation
// init runs the frozen model, so the model's enable_prefix does it; this file
// validates, draws the tokens, lays the tensors out and fills them.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "mezo/counter_rng.hpp"
#include "mezo/error.hpp"
#include "model/peft/peft_state.hpp"

MEZO_BEGIN_NAMESPACE

const char* to_string(PrefixInit init) noexcept {
  return init == PrefixInit::real_activations ? "real" : "random";
}

PrefixInit parse_prefix_init(std::string_view name) {
  if (name == "real") return PrefixInit::real_activations;
  if (name == "random") return PrefixInit::random;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown prefix init '{}': expected real or random", name));
}

namespace model {

void validate_prefix(const PrefixShape& shape, const PrefixOptions& o) {
  const auto fail = [](const std::string& why) {
    throw Error(ErrorCode::invalid_argument, "PrefixOptions: " + why);
  };
  if (o.tokens < 0) fail(fmt::format("tokens must be >= 0, got {}", o.tokens));
  if (o.init != PrefixInit::real_activations && o.init != PrefixInit::random) fail("unknown init");
  if (o.init == PrefixInit::random && (!(o.random_std >= 0) || !std::isfinite(o.random_std)))
    fail(fmt::format("random_std must be finite and >= 0, got {}", o.random_std));
  // The real-activation init runs the tokens as one sequence.
  if (o.init == PrefixInit::real_activations && o.tokens > shape.max_tokens) {
    fail(
        fmt::format("{} prefix tokens exceed the model's {} positions (needed to initialise "
                    "them from real activations; use the random init)",
                    o.tokens, shape.max_tokens));
  }
  if (o.init == PrefixInit::real_activations && o.tokens > 0 && shape.vocab_size < 2)
    fail("the vocabulary is too small to draw tokens from");
}

std::vector<std::int32_t> draw_prefix_tokens(const PrefixShape& shape, int tokens,
                                             std::uint64_t seed) {
  std::vector<std::int32_t> ids;
  const bool exclude = shape.excluded_id >= 0;
  const auto choices = static_cast<std::uint64_t>(shape.vocab_size - (exclude ? 1 : 0));
  for (int i = 0; i < tokens; ++i) {
    const std::uint64_t x =
        rng::stream_key(seed, rng::Stream::prefix_tokens, static_cast<std::uint64_t>(i));
    auto id = static_cast<std::int64_t>(x % choices);  // bias below 1e-13: immaterial
    if (exclude && id >= shape.excluded_id) ++id;
    ids.push_back(static_cast<std::int32_t>(id));
  }
  return ids;
}

PrefixState make_prefix(const PrefixShape& shape, const PrefixOptions& o, PeftBuffer& buffer) {
  PrefixState s;
  s.enabled = true;
  s.tokens = o.tokens;
  if (o.tokens == 0) return s;  // an empty prefix adds no tensors
  const auto size = static_cast<std::uint64_t>(o.tokens * shape.width);
  for (std::int64_t l = 0; l < shape.layers; ++l) {
    const std::string name = fmt::format(fmt::runtime(shape.layer_name), l);
    s.keys.push_back(buffer.add(name + "key", size));
    s.values.push_back(buffer.add(name + "value", size));
  }
  if (o.init == PrefixInit::random) {
    // Tensor t (keys then values, layer by layer) takes Gaussian z's of a
    // stream keyed by (seed, t): platform-independent, like every z.
    for (std::size_t t = 0; t < 2 * s.keys.size(); ++t) {
      const std::uint64_t offset = t % 2 == 0 ? s.keys[t / 2] : s.values[t / 2];
      const std::uint64_t key = rng::stream_key(o.seed, rng::Stream::prefix_random, t);
      float* data = buffer.at(offset);
      for (std::uint64_t j = 0; j < size; ++j) data[j] = o.random_std * rng::gaussian_z(key, j);
    }
  }
  return s;
}

void fill_prefix(const PrefixState& prefix, std::span<const float> kv, std::int64_t width,
                 PeftBuffer& buffer) {
  const auto size = static_cast<std::size_t>(prefix.tokens * width);
  for (std::size_t l = 0; l < prefix.keys.size(); ++l) {
    std::copy_n(kv.begin() + static_cast<std::ptrdiff_t>(2 * l * size), size,
                buffer.at(prefix.keys[l]));
    std::copy_n(kv.begin() + static_cast<std::ptrdiff_t>((2 * l + 1) * size), size,
                buffer.at(prefix.values[l]));
  }
}

}  // namespace model
MEZO_END_NAMESPACE
