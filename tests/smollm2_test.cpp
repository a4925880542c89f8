// The real SmolLM2-135M-Instruct (Q4_1 GGUF from the pinned PyPI wheel,
// dequantized) against transformers' GGUF loader run on the same file
// (tests/fixtures/decoder/smollm2_reference.json, made by
// tools/make_real_model_reference.py): " Paris" after "The capital of France
// is", the NLL of a 98-token paragraph (RoPE pairing shows on long text), the
// SST-2 label words' logits; and export to F32 GGUF that loads back bit for
// bit with the tokenizer carried over. Skips, saying how to fetch the model,
// when it is not there (tools/fetch_model.sh SmolLM2-135M-Instruct).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <mezo/model/causal_lm.hpp>
#include <mezo/text/tokenizer.hpp>
#include <nlohmann/json.hpp>
#include <numeric>
#include <vector>

#include "decoder_test_support.hpp"
#include "real_model_support.hpp"
#include "test_support.hpp"

namespace {

nlohmann::json reference() {
  std::ifstream in(std::filesystem::path(MEZO_TEST_FIXTURES_DIR) / "decoder" /
                   "smollm2_reference.json");
  return nlohmann::json::parse(in);
}

// One model for the suite: loading it takes a few seconds.
mezo::CausalLM& smollm2(const std::filesystem::path& path) {
  static mezo::CausalLM model = mezo::CausalLM::load(path, {.num_threads = 2});
  return model;
}

std::vector<float> next_token_logits(mezo::CausalLM& model, const std::vector<std::int32_t>& ids,
                                     std::int64_t position) {
  const std::vector<std::vector<std::int32_t>> rows = {ids};
  const auto batch = mezo::TokenBatch::pad(rows, 0);
  const mezo::TokenQuery query{0, position};
  std::vector<float> out(static_cast<std::size_t>(model.vocab_size()));
  model.logits(batch, {&query, 1}, {}, out);
  return out;
}

double log_sum_exp(const std::vector<float>& row) {
  double max = -INFINITY, sum = 0;
  for (const float x : row) max = std::max(max, double{x});
  for (const float x : row) sum += std::exp(x - max);
  return max + std::log(sum);
}

TEST(SmolLM2, ParisIsTheTopTokenWithTheReferenceLogProbabilities) {
  REQUIRE_SMOLLM2_GGUF(path);
  const auto ref = reference().at("capital");
  const auto tokenizer = mezo::load_tokenizer(path);
  const auto ids = tokenizer->encode(ref.at("text").get<std::string>());
  ASSERT_EQ(ids, ref.at("ids").get<std::vector<std::int32_t>>());
  const auto logits = next_token_logits(smollm2(path), ids, std::int64_t(ids.size()) - 1);
  const double lse = log_sum_exp(logits);
  const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
  EXPECT_EQ(best, 7042);
  const std::int32_t one[] = {7042};
  EXPECT_EQ(tokenizer->decode(one), " Paris");
  for (const auto& top : ref.at("top5")) {
    const std::int32_t id = top.at("id");
    EXPECT_NEAR(logits[id] - lse, top.at("logprob").get<double>(), 1e-3) << "id " << id;
  }
}

TEST(SmolLM2, ParagraphNllMatchesTheReference) {
  REQUIRE_SMOLLM2_GGUF(path);
  const auto ref = reference().at("paragraph");
  const auto tokenizer = mezo::load_tokenizer(path);
  const auto ids = tokenizer->encode(ref.at("text").get<std::string>());
  ASSERT_EQ(ids, ref.at("ids").get<std::vector<std::int32_t>>());
  mezo::CausalLM& model = smollm2(path);
  const std::vector<std::vector<std::int32_t>> rows = {ids};
  const auto batch = mezo::TokenBatch::pad(rows, 0);
  std::vector<mezo::TokenQuery> queries;
  for (std::size_t t = 0; t + 1 < ids.size(); ++t) queries.push_back({0, std::int64_t(t)});
  const auto V = static_cast<std::size_t>(model.vocab_size());
  std::vector<float> logits(queries.size() * V);
  model.logits(batch, queries, {}, logits);
  double sum = 0;
  for (std::size_t t = 0; t < queries.size(); ++t) {
    const std::vector<float> row(logits.begin() + t * V, logits.begin() + (t + 1) * V);
    sum += log_sum_exp(row) - row[ids[t + 1]];
  }
  const double nll = sum / double(queries.size());
  EXPECT_EQ(queries.size(), ref.at("n_predicted").get<std::size_t>());
  EXPECT_NEAR(nll, ref.at("nll").get<double>(), 1e-3);
  std::printf("paragraph: %zu tokens predicted, NLL %.6f (reference %.6f), perplexity %.3f\n",
              queries.size(), nll, ref.at("nll").get<double>(), std::exp(nll));
}

TEST(SmolLM2, Sst2LabelWordLogitsMatchTheReference) {
  REQUIRE_SMOLLM2_GGUF(path);
  const auto ref = reference().at("sst2");
  const auto ids = ref.at("ids").get<std::vector<std::int32_t>>();
  const auto logits = next_token_logits(smollm2(path), ids, std::int64_t(ids.size()) - 1);
  for (const auto& [word, value] : ref.at("label_logits").items()) {
    const std::int32_t id = ref.at("label_ids").at(word);
    EXPECT_NEAR(logits[id], value.get<double>(), 1e-3) << word;
  }
}

// Q4_1 → F32 GGUF → load: the same fp32 masters bit for bit, and the
// tokenizer carried over gives the same ids.
TEST(SmolLM2, F32GgufExportLoadsBackBitIdenticalWithItsTokenizer) {
  REQUIRE_SMOLLM2_GGUF(path);
  mezo_test::TempDir dir;
  mezo::CausalLM& model = smollm2(path);
  model.save_gguf(dir / "smollm2-f32.gguf");
  const auto loaded = mezo::CausalLM::load(dir / "smollm2-f32.gguf", {.num_threads = 2});
  mezo_test::expect_same_params(model, loaded);
  if (HasFatalFailure()) return;
  const auto original = mezo::load_tokenizer(path);
  const auto exported = mezo::load_tokenizer(dir / "smollm2-f32.gguf");
  const std::string text = "Hello world! 123 Café déjà vu. <|im_start|>user";
  EXPECT_EQ(exported->encode(text), original->encode(text));
  EXPECT_EQ(exported->special_tokens().end, original->special_tokens().end);
}

}  // namespace
