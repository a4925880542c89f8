// The real decoders tools/fetch_model.sh fetches besides SmolLM2 (which
// smollm2_test covers more deeply): Gemma 3 270M (gemma3, SentencePiece) and
// Qwen2.5-Coder-0.5B-Instruct (qwen2, its own output matrix), each GGUF file
// against transformers' GGUF loader on the same file
// (tests/fixtures/decoder/real_decoders_reference.json, from
// tools/make_real_decoder_reference.py): the prompt's ids as transformers'
// tokenizer gives them, the 10 most likely next tokens' log-probabilities
// within 1e-4, and the mean NLL of a ~700-token paragraph (past Gemma's
// 512-token window) within 1e-5 relative. Each skips, saying how to fetch it,
// when its file is not there.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <mezo/model/causal_lm.hpp>
#include <mezo/text/tokenizer.hpp>
#include <nlohmann/json.hpp>
#include <vector>

#include "real_model_support.hpp"

namespace {

class RealDecoder : public testing::TestWithParam<mezo_test::RealModel> {};

double log_sum_exp(const float* row, std::size_t n) {
  double max = -INFINITY, sum = 0;
  for (std::size_t i = 0; i < n; ++i) max = std::max(max, double{row[i]});
  for (std::size_t i = 0; i < n; ++i) sum += std::exp(row[i] - max);
  return max + std::log(sum);
}

TEST_P(RealDecoder, MatchesTransformersOnTheSameFile) {
  REQUIRE_REAL_MODEL(path, GetParam());
  std::ifstream in(std::filesystem::path(MEZO_TEST_FIXTURES_DIR) / "decoder" /
                   "real_decoders_reference.json");
  const auto all_refs = nlohmann::json::parse(in);
  const auto& ref = all_refs.at("models").at(GetParam().name);
  auto model = mezo::CausalLM::load(path, {.num_threads = 2});
  const auto tokenizer = mezo::load_tokenizer(path);
  std::vector<std::int32_t> prompt;
  if (tokenizer->special_tokens().add_begin) prompt.push_back(tokenizer->special_tokens().begin);
  for (const auto id : tokenizer->encode(ref.at("prompt").get<std::string>())) prompt.push_back(id);
  ASSERT_EQ(prompt, ref.at("prompt_ids").get<std::vector<std::int32_t>>());

  const auto vocab = static_cast<std::size_t>(model.vocab_size());
  const auto logits_at = [&](const std::vector<std::int32_t>& ids,
                             const std::vector<mezo::TokenQuery>& queries) {
    const std::vector<std::vector<std::int32_t>> rows = {ids};
    std::vector<float> out(queries.size() * vocab);
    model.logits(mezo::TokenBatch::pad(rows, 0), queries, {}, out);
    return out;
  };
  const auto last = logits_at(prompt, {{0, static_cast<std::int64_t>(prompt.size()) - 1}});
  const double lse = log_sum_exp(last.data(), vocab);
  const auto top = ref.at("top_ids").get<std::vector<std::int32_t>>();
  const auto want = ref.at("top_log_probs").get<std::vector<double>>();
  for (std::size_t k = 0; k < top.size(); ++k)
    EXPECT_NEAR(last[static_cast<std::size_t>(top[k])] - lse, want[k], 1e-4) << "id " << top[k];

  const auto para = ref.at("paragraph_ids").get<std::vector<std::int32_t>>();
  ASSERT_GT(para.size(), 600u);
  std::vector<mezo::TokenQuery> every;
  for (std::size_t t = 0; t + 1 < para.size(); ++t)
    every.push_back({0, static_cast<std::int64_t>(t)});
  const auto logits = logits_at(para, every);
  double sum = 0;
  for (std::size_t t = 0; t < every.size(); ++t) {
    const float* row = logits.data() + t * vocab;
    sum += log_sum_exp(row, vocab) - row[static_cast<std::size_t>(para[t + 1])];
  }
  const double nll = sum / static_cast<double>(every.size());
  const double want_nll = ref.at("paragraph_nll");
  std::printf("%s: paragraph NLL %.7f over %zu tokens, transformers %.7f\n", GetParam().name, nll,
              para.size(), want_nll);
  EXPECT_NEAR(nll, want_nll, 1e-5 * want_nll);
}

INSTANTIATE_TEST_SUITE_P(Fetched, RealDecoder,
                         testing::Values(mezo_test::kGemma3, mezo_test::kQwen25Coder05B),
                         [](const testing::TestParamInfo<mezo_test::RealModel>& info) {
                           std::string name = info.param.name;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
