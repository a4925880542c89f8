// Cached decoding (CausalLM::decode, KvCache) and generation (mezo::generate):
// the logits of a sequence read in pieces through the cache equal the full
// forward's at every position — on a tiny decoder and at SmolLM2's width,
// with LoRA and with a prefix — generation is greedy or seeded sampling that
// stops where it should, its tokens equal transformers' greedy continuation
// on the tiny fixtures (tests/fixtures/decoder/generation_reference.json, made
// by tools/make_generation_reference.py), and bad input is a clear error that
// leaves the cache as it was.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <mezo/error.hpp>
#include <mezo/model/causal_lm.hpp>
#include <mezo/model/generation.hpp>
#include <nlohmann/json.hpp>
#include <vector>

#include "decoder_test_support.hpp"
#include "test_support.hpp"

namespace {

using mezo_test::smollm2_width_config;
using mezo_test::tiny_llama_config;

// `f` throws an invalid_argument mezo::Error whose message holds `part`.
void expect_error(const std::function<void()>& f, const std::string& part) {
  EXPECT_CONTAINS(mezo_test::error_of(f, mezo::ErrorCode::invalid_argument), part);
}

std::vector<std::int32_t> test_ids(std::int64_t n, std::int64_t vocab, int salt = 0) {
  std::vector<std::int32_t> ids;
  for (std::int64_t t = 0; t < n; ++t)
    ids.push_back(static_cast<std::int32_t>((t * 37 + salt * 101 + 5) % vocab));
  return ids;
}

// Next-token logits after every position of `ids`, from one uncached forward.
std::vector<float> full_logits(mezo::CausalLM& model, const std::vector<std::int32_t>& ids) {
  const std::vector<std::vector<std::int32_t>> rows = {ids};
  const auto batch = mezo::TokenBatch::pad(rows, 0);
  const auto queries = mezo_test::every_position(batch);
  std::vector<float> out(queries.size() * static_cast<std::size_t>(model.vocab_size()));
  model.logits(batch, queries, {}, out);
  return out;
}

// Reads `ids` through a cache in pieces of the given sizes (cycled) and
// checks the logits after each piece against the full forward's at that
// position, within 1e-5 of the row's largest logit.
void expect_cached_equals_full(mezo::CausalLM& model, const std::vector<std::int32_t>& ids,
                               const std::vector<std::int64_t>& pieces) {
  const auto vocab = static_cast<std::size_t>(model.vocab_size());
  const std::vector<float> full = full_logits(model, ids);
  mezo::KvCache cache;
  std::vector<float> next(vocab);
  std::size_t read = 0;
  for (std::size_t p = 0; read < ids.size(); ++p) {
    const auto size = std::min<std::size_t>(static_cast<std::size_t>(pieces[p % pieces.size()]),
                                            ids.size() - read);
    model.decode(cache, std::span(ids).subspan(read, size), next);
    read += size;
    ASSERT_EQ(cache.tokens(), static_cast<std::int64_t>(read));
    const float* want = full.data() + (read - 1) * vocab;
    double scale = 1e-3;
    for (std::size_t j = 0; j < vocab; ++j) scale = std::max(scale, double{std::abs(want[j])});
    for (std::size_t j = 0; j < vocab; ++j) {
      ASSERT_LT(std::abs(next[j] - want[j]) / scale, 1e-5)
          << "after " << read << " tokens, id " << j << ": " << next[j] << " vs " << want[j];
    }
  }
}

TEST(KvCache, PiecewiseDecodingEqualsTheFullForward) {
  for (const bool tied : {true, false}) {
    auto model = mezo::CausalLM::random(tiny_llama_config(tied), 7, {.num_threads = 2});
    expect_cached_equals_full(model, test_ids(60, 300), {1});
    expect_cached_equals_full(model, test_ids(60, 300, 1), {9, 1, 1, 4, 1, 13});
  }
}

TEST(KvCache, PiecewiseDecodingEqualsTheFullForwardAtSmolLM2Width) {
  // hidden 576, 9 query / 3 key-value heads, 2 threads splitting every
  // projection; 100 tokens, a long prompt and then one token at a time.
  auto model = mezo::CausalLM::random(smollm2_width_config(), 11, {.num_threads = 2});
  expect_cached_equals_full(model, test_ids(100, 2048), {64, 1, 1, 1, 7, 1});
}

TEST(KvCache, PiecewiseDecodingEqualsTheFullForwardWithLoraAndPrefix) {
  auto model = mezo::CausalLM::random(tiny_llama_config(), 3, {.num_threads = 2});
  model.enable_lora({.rank = 4, .targets = {mezo::LoraTarget::query, mezo::LoraTarget::value,
                                            mezo::LoraTarget::output}});
  model.enable_prefix({.tokens = 5, .seed = 2});
  // B starts at zero: give every trainable tensor a value so that LoRA shows.
  for (const auto& view : model.peft_params().views())
    for (std::uint64_t i = 0; i < view.size; ++i) view.f32()[i] += 0.01f * std::sin(float(i));
  expect_cached_equals_full(model, test_ids(50, 300), {6, 1, 1, 3});
  model.merge_lora();
  expect_cached_equals_full(model, test_ids(50, 300, 2), {1});
}

TEST(KvCache, DecodingIsTheSameOnAnyNumberOfThreads) {
  const auto ids = test_ids(40, 2048);
  std::vector<std::vector<float>> results;
  for (const int threads : {1, 2, 3}) {
    auto model = mezo::CausalLM::random(smollm2_width_config(), 5, {.num_threads = threads});
    mezo::KvCache cache;
    std::vector<float> next(2048);
    model.decode(cache, std::span(ids).first(30), next);
    model.decode(cache, std::span(ids).subspan(30, 1), next);
    results.push_back(next);
  }
  EXPECT_TRUE(mezo_test::same_bytes(results[0], results[1]));
  EXPECT_TRUE(mezo_test::same_bytes(results[0], results[2]));
}

TEST(KvCache, BadInputIsAClearErrorAndLeavesTheCacheAsItWas) {
  auto model = mezo::CausalLM::random(tiny_llama_config(), 1, {.num_threads = 1});
  auto other = mezo::CausalLM::random(tiny_llama_config(), 2, {.num_threads = 1});
  mezo::KvCache cache;
  std::vector<float> next(300), small(10);
  const std::vector<std::int32_t> ids = {1, 2, 3}, bad = {4, 300}, none;
  EXPECT_THROW(model.decode(cache, ids, small), mezo::Error);
  EXPECT_THROW(model.decode(cache, bad, next), mezo::Error);
  EXPECT_EQ(cache.tokens(), 0);
  model.decode(cache, ids, next);
  const std::vector<float> after_three = next;
  expect_error([&] { model.decode(cache, none, next); }, "no token ids");
  expect_error([&] { model.decode(cache, bad, next); }, "id 300 (index 1)");
  expect_error([&] { other.decode(cache, ids, next); }, "another model");
  const std::vector<std::int32_t> too_many(126, 7);
  expect_error([&] { model.decode(cache, too_many, next); },
                                  "126 tokens after 3 would pass the model's 128 positions");
  EXPECT_EQ(cache.tokens(), 3);
  // The cache is intact: the next token gives what a fresh read gives.
  const std::vector<std::int32_t> four = {1, 2, 3, 9};
  model.decode(cache, std::span(four).subspan(3), next);
  mezo::KvCache fresh;
  std::vector<float> want(300);
  model.decode(fresh, four, want);
  for (std::size_t j = 0; j < want.size(); ++j) ASSERT_NEAR(next[j], want[j], 1e-5f);
  // clear() frees it for another model.
  cache.clear();
  EXPECT_EQ(cache.tokens(), 0);
  other.decode(cache, ids, next);
  EXPECT_EQ(cache.tokens(), 3);
}

TEST(ChooseToken, GreedyIsTheArgmaxWithTheLowestIdOnATie) {
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f};
  EXPECT_EQ(mezo::choose_token(logits, 0.0f, 0, 0.9), 1);
  EXPECT_EQ(mezo::choose_token(logits, 1.0f, 1, 0.9), 1);  // top-1 sampling is greedy
  const std::vector<float> nan = {0.0f, NAN};
  expect_error([&] { mezo::choose_token(nan, 0.0f, 0, 0.0); },
                                  "the logit of id 1 is NaN");
}

TEST(ChooseToken, SamplesFromTheTemperedSoftmax) {
  // Weights 1 : 2 : 3 at temperature 1, and 1 : √2 : √3 at temperature 2:
  // an evenly spaced grid of u hits each id in proportion.
  const std::vector<float> logits = {0.0f, std::log(2.0f), std::log(3.0f)};
  const auto counts = [&](float temperature, std::int64_t top_k) {
    std::vector<int> n(3, 0);
    for (int i = 0; i < 6000; ++i)
      ++n[static_cast<std::size_t>(mezo::choose_token(logits, temperature, top_k, (i + 0.5) / 6000))];
    return n;
  };
  EXPECT_EQ(counts(1.0f, 0), (std::vector<int>{1000, 2000, 3000}));
  const double total = 1 + std::sqrt(2.0) + std::sqrt(3.0);
  const auto tempered = counts(2.0f, 0);
  EXPECT_NEAR(tempered[0], 6000 / total, 1.0);
  EXPECT_NEAR(tempered[2], 6000 * std::sqrt(3.0) / total, 1.0);
  // Top-2 leaves out id 0: 2 : 3.
  EXPECT_EQ(counts(1.0f, 2), (std::vector<int>{0, 2400, 3600}));
}

// The greedy ids by the full, uncached forward: what generation must give.
std::vector<std::int32_t> greedy_without_cache(mezo::CausalLM& model,
                                               std::vector<std::int32_t> ids, int count) {
  std::vector<std::int32_t> out;
  const auto vocab = static_cast<std::size_t>(model.vocab_size());
  for (int i = 0; i < count; ++i) {
    const auto logits = full_logits(model, ids);
    const std::span<const float> last(logits.data() + logits.size() - vocab, vocab);
    out.push_back(mezo::choose_token(last, 0.0f, 0, 0.0));
    ids.push_back(out.back());
  }
  return out;
}

TEST(Generate, GreedyEqualsTheArgmaxOfTheFullForward) {
  auto model = mezo::CausalLM::random(smollm2_width_config(), 13, {.num_threads = 2});
  const auto prompt = test_ids(20, 2048);
  std::vector<std::int32_t> seen;
  const auto result = mezo::generate(model, prompt, {.max_new_tokens = 12},
                                     [&](std::int32_t id) { seen.push_back(id); });
  EXPECT_EQ(result.ids, greedy_without_cache(model, prompt, 12));
  EXPECT_EQ(seen, result.ids);
  EXPECT_EQ(result.stop, mezo::GenerationStop::max_new_tokens);
}

TEST(Generate, SamplingIsAFunctionOfTheSeed) {
  auto model = mezo::CausalLM::random(tiny_llama_config(), 4, {.num_threads = 2});
  const auto prompt = test_ids(8, 300);
  const mezo::GenerationOptions a{.max_new_tokens = 30, .temperature = 1.5f, .seed = 1};
  mezo::GenerationOptions b = a;
  b.seed = 2;
  const auto first = mezo::generate(model, prompt, a).ids;
  EXPECT_EQ(first, mezo::generate(model, prompt, a).ids);
  EXPECT_NE(first, mezo::generate(model, prompt, b).ids);
  auto one_thread = mezo::CausalLM::random(tiny_llama_config(), 4, {.num_threads = 1});
  EXPECT_EQ(first, mezo::generate(one_thread, prompt, a).ids);
}

TEST(Generate, StopsAtAStopTokenAtMaxTokensAndAtTheLastPosition) {
  auto model = mezo::CausalLM::random(tiny_llama_config(), 6, {.num_threads = 1});
  const auto prompt = test_ids(10, 300);
  const auto greedy = mezo::generate(model, prompt, {.max_new_tokens = 20}).ids;
  ASSERT_EQ(greedy.size(), 20u);
  // Stop at the first occurrence of greedy[5], returned as the last id.
  const std::int32_t stop = greedy[5];
  const auto first = static_cast<std::size_t>(std::find(greedy.begin(), greedy.end(), stop) - greedy.begin());
  const auto stopped = mezo::generate(model, prompt, {.max_new_tokens = 20, .stop_ids = {stop}});
  EXPECT_EQ(stopped.stop, mezo::GenerationStop::stop_token);
  EXPECT_EQ(stopped.ids, std::vector<std::int32_t>(greedy.begin(), greedy.begin() + first + 1));
  EXPECT_TRUE(mezo::generate(model, prompt, {.max_new_tokens = 0}).ids.empty());
  // 128 positions: a 126-token prompt reads 2 generated tokens and chooses a third.
  const auto full = mezo::generate(model, test_ids(126, 300), {.max_new_tokens = 10});
  EXPECT_EQ(full.stop, mezo::GenerationStop::context_full);
  EXPECT_EQ(full.ids.size(), 3u);
  EXPECT_EQ(mezo::generate(model, test_ids(128, 300), {.max_new_tokens = 10}).ids.size(), 1u);
}

TEST(Generate, BadOptionsAreClearErrors) {
  auto model = mezo::CausalLM::random(tiny_llama_config(), 6, {.num_threads = 1});
  const auto prompt = test_ids(4, 300);
  const std::vector<std::int32_t> none;
  expect_error([&] { mezo::generate(model, none); }, "the prompt has no tokens");
  expect_error([&] { mezo::generate(model, test_ids(129, 300)); },
                       "the prompt's 129 tokens are more than the model's 128 positions");
  expect_error([&] { mezo::generate(model, prompt, {.temperature = -1.0f}); },
                       "temperature must be finite and >= 0");
  expect_error([&] { mezo::generate(model, prompt, {.temperature = NAN}); },
                       "temperature must be finite and >= 0");
  expect_error([&] { mezo::generate(model, prompt, {.max_new_tokens = -1}); },
                       "max_new_tokens must be >= 0");
  expect_error([&] { mezo::generate(model, prompt, {.top_k = -2}); },
                       "top_k must be >= 0");
  expect_error([&] { mezo::generate(model, prompt, {.stop_ids = {300}}); },
                       "stop id 300 is outside the vocabulary");
}

TEST(Generate, GreedyEqualsTransformersOnTheTinyFixtures) {
  const auto dir = std::filesystem::path(MEZO_TEST_FIXTURES_DIR) / "decoder";
  std::ifstream in(dir / "generation_reference.json");
  ASSERT_TRUE(in) << "missing tests/fixtures/decoder/generation_reference.json";
  const auto reference = nlohmann::json::parse(in).at("tiny");
  ASSERT_GE(reference.size(), 4u);
  for (const auto& [name, expected] : reference.items()) {
    SCOPED_TRACE(name);
    for (const char* file : {"hf", "model-f32.gguf"}) {
      auto model = mezo::CausalLM::load(dir / name / file, {.num_threads = 2});
      const auto prompt = expected.at("prompt_ids").get<std::vector<std::int32_t>>();
      const auto want = expected.at("generated_ids").get<std::vector<std::int32_t>>();
      const auto got = mezo::generate(model, prompt,
                                      {.max_new_tokens = static_cast<std::int64_t>(want.size())});
      EXPECT_EQ(got.ids, want) << file;
    }
  }
}

}  // namespace
