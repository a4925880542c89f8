#include <gtest/gtest.h>

#include <cmath>
#include <mezo/mezo.hpp>
#include <vector>

namespace {

TEST(CrossEntropy, MatchesTheDefinition) {
  const std::vector<float> logits = {2.0f, 0.5f, -1.0f, 1.0f, 1.0f, 3.0f};
  const std::vector<std::int32_t> labels = {0, 2};
  const auto row_loss = [](float a, float b, float c, float label_logit) {
    return std::log(std::exp(a) + std::exp(b) + std::exp(c)) - label_logit;
  };
  const float expected = (row_loss(2, 0.5, -1, 2) + row_loss(1, 1, 3, 3)) / 2;
  EXPECT_NEAR(mezo::CrossEntropy()({logits.data(), 2, 3}, labels), expected, 1e-6f);
}

TEST(CrossEntropy, IsStableForLargeLogitsAndPropagatesNaN) {
  const std::vector<float> big = {1000.0f, 0.0f};
  const std::vector<std::int32_t> label = {1};
  EXPECT_NEAR(mezo::CrossEntropy()({big.data(), 1, 2}, label), 1000.0f, 1e-3f);
  const std::vector<float> nan = {NAN, 0.0f};
  EXPECT_TRUE(std::isnan(mezo::CrossEntropy()({nan.data(), 1, 2}, label)));
  EXPECT_TRUE(std::isnan(mezo::NegativeAccuracy()({nan.data(), 1, 2}, label)));
}

TEST(NegativeAccuracy, CountsArgmaxHits) {
  const std::vector<float> logits = {0.1f, 0.9f, 0.8f, 0.2f, 0.5f, 0.5f};
  const std::vector<std::int32_t> labels = {1, 1, 0};  // hit, miss, tie -> class 0 hit
  EXPECT_FLOAT_EQ(mezo::NegativeAccuracy()({logits.data(), 3, 2}, labels), -2.0f / 3.0f);
}

TEST(Objectives, RejectBadShapesAndLabels) {
  const std::vector<float> logits = {0.0f, 1.0f};
  const std::vector<std::int32_t> out_of_range = {2}, too_many = {0, 1};
  const mezo::CrossEntropy ce;
  EXPECT_THROW(ce({logits.data(), 1, 2}, out_of_range), mezo::Error);
  EXPECT_THROW(ce({logits.data(), 1, 2}, too_many), mezo::Error);
  EXPECT_THROW(ce({nullptr, 1, 2}, out_of_range), mezo::Error);
  try {
    mezo::NegativeAccuracy()({logits.data(), 1, 2}, std::vector<std::int32_t>{-1});
    FAIL();
  } catch (const mezo::Error& e) {
    EXPECT_NE(std::string(e.what()).find("label -1"), std::string::npos) << e.what();
    EXPECT_EQ(e.code(), mezo::ErrorCode::invalid_argument);
  }
}

TEST(CallableObjective, CallsTheUserFunction) {
  const mezo::CallableObjective margin("margin", [](mezo::Logits l, std::span<const std::int32_t>) {
    return l.data[0] - l.data[1];
  });
  const std::vector<float> logits = {3.0f, 1.0f};
  EXPECT_EQ(margin({logits.data(), 1, 2}, std::vector<std::int32_t>{0}), 2.0f);
  EXPECT_EQ(margin.name(), "margin");
  EXPECT_THROW(mezo::CallableObjective("empty", nullptr), mezo::Error);
}

TEST(LogSink, ReceivesLibraryWarnings) {
  std::vector<std::string> seen;
  const auto previous = mezo::set_log_sink([&](mezo::LogLevel level, std::string_view m) {
    if (level == mezo::LogLevel::warning) seen.emplace_back(m);
  });
  std::vector<float> w = {1.0f};
  mezo::ParamSet params;
  params.add("w", w.data(), 1);
  mezo::ZoSgd opt({});
  mezo::step(
      params, opt, [] { return NAN; }, 1);
  mezo::set_log_sink(previous);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].find("loss_plus"), std::string::npos);
}

}  // namespace
