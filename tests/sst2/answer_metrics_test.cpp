// SQuAD's exact match and F1 (examples/sst2/answer_metrics.hpp) against the
// official script's values on hand-made cases (tests/fixtures/
// answer_metrics.json, made by tools/make_answer_metric_fixtures.py): articles,
// punctuation, case, whitespace, repeated words, several gold answers, an
// empty prediction.
#include "answer_metrics.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace {

TEST(AnswerMetrics, EqualTheOfficialScriptsValues) {
  std::ifstream in(std::filesystem::path(MEZO_TEST_FIXTURES_DIR) / "answer_metrics.json");
  ASSERT_TRUE(in) << "missing tests/fixtures/answer_metrics.json";
  const auto cases = nlohmann::json::parse(in).at("cases");
  ASSERT_GE(cases.size(), 10u);
  for (const auto& c : cases) {
    const auto prediction = c.at("prediction").get<std::string>();
    const auto golds = c.at("golds").get<std::vector<std::string>>();
    SCOPED_TRACE(prediction);
    EXPECT_EQ(sst2::normalize_answer(prediction), c.at("normalized").get<std::string>());
    EXPECT_EQ(sst2::exact_match(prediction, golds), c.at("exact_match").get<double>());
    EXPECT_NEAR(sst2::answer_f1(prediction, golds), c.at("f1").get<double>(), 1e-12);
  }
}

TEST(AnswerMetrics, NoGoldAnswerScoresZero) {
  EXPECT_EQ(sst2::exact_match("x", {}), 0.0);
  EXPECT_EQ(sst2::answer_f1("x", {}), 0.0);
}

}  // namespace
