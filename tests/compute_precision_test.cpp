// ComputePrecision through the public API: names; bf16 logits against fp32
// ones on the same weights at real width (a decoder of SmolLM2's width, an
// encoder of all-MiniLM-L6-v2's), within a stated tolerance and yet not equal
// (the products did round); and MeZO steps in bf16, whose weights replay()
// rebuilds bit for bit from the trajectory (the masters are fp32 either way).
// Thread-count independence in bf16 is in causal_lm_test and
// encoder_threads_test (parameterised over the precision).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mezo/mezo.hpp>
#include <vector>

#include "decoder_test_support.hpp"
#include "test_support.hpp"

namespace {

using mezo::ComputePrecision;

// max |a − b| over the spread (standard deviation) of a.
double max_difference_over_spread(const std::vector<float>& a, const std::vector<float>& b) {
  double mean = 0, max_diff = 0;
  for (float x : a) mean += x;
  mean /= static_cast<double>(a.size());
  double var = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    var += (a[i] - mean) * (a[i] - mean);
    max_diff = std::max(max_diff, std::abs(double{a[i]} - b[i]));
  }
  return max_diff / std::sqrt(var / static_cast<double>(a.size()));
}

TEST(ComputePrecision, Fp32IsAlwaysAvailable) {
  std::string why_not = "untouched";
  EXPECT_TRUE(mezo::compute_available(ComputePrecision::fp32, &why_not));
  EXPECT_EQ(why_not, "untouched");
}

TEST(ComputePrecision, NamesParseBackAndBadTextIsAClearError) {
  for (ComputePrecision p : {ComputePrecision::fp32, ComputePrecision::bf16})
    EXPECT_EQ(mezo::parse_compute_precision(mezo::to_string(p)), p);
  const std::string message = mezo_test::error_of([] { mezo::parse_compute_precision("fp16"); },
                                                  mezo::ErrorCode::invalid_argument);
  EXPECT_NE(message.find("'fp16'"), std::string::npos) << message;
}

std::vector<float> decoder_logits(ComputePrecision compute) {
  const auto config = mezo_test::smollm2_width_config();
  auto model = mezo::CausalLM::random(config, 11, {.num_threads = 2, .compute = compute});
  const auto batch = mezo_test::decoder_batch(16, 40, 2, config.vocab_size);
  const auto queries = mezo_test::every_position(batch);
  std::vector<float> out(queries.size() * static_cast<std::size_t>(config.vocab_size));
  model.logits(batch, queries, {}, out);
  return out;
}

// Measured on 2026-12-07: 0.034 of the logits' spread at most (of 1.8M
// logits), bf16 vs fp32. Bound: 0.1.
TEST(ComputePrecision, Bf16DecoderLogitsAreCloseToFp32AtRealWidth) {
  SKIP_UNLESS_COMPUTE_AVAILABLE(ComputePrecision::bf16);
  const double off = max_difference_over_spread(decoder_logits(ComputePrecision::fp32),
                                                decoder_logits(ComputePrecision::bf16));
  std::printf("max difference / spread %g\n", off);
  EXPECT_LT(off, 0.1);
  EXPECT_GT(off, 1e-4) << "bf16 gave fp32's logits: were the products rounded at all?";
}

// all-MiniLM-L6-v2's shape (6 layers, hidden 384, MLP 1536), the MLM head's
// logits over the whole vocabulary at one position per row of a 16 × 64 batch.
std::vector<float> encoder_logits(ComputePrecision compute) {
  mezo::TransformerConfig c;
  c.model_type = mezo::ModelType::bert;
  c.vocab_size = 30522, c.hidden_size = 384, c.num_hidden_layers = 6;
  c.num_attention_heads = 12, c.intermediate_size = 1536, c.max_position_embeddings = 512;
  c.type_vocab_size = 2;
  auto model = mezo::MaskedLM::random(c, 12, {.num_threads = 2, .compute = compute});
  const auto batch = mezo_test::decoder_batch(16, 34, 2, c.vocab_size);  // 34..64 tokens
  std::vector<mezo::MaskQuery> queries;
  for (std::int64_t r = 0; r < batch.rows; ++r) queries.push_back({r, batch.lengths[r] / 2});
  std::vector<float> out(queries.size() * static_cast<std::size_t>(c.vocab_size));
  model.mlm_logits(batch, queries, {}, out);
  return out;
}

// Measured on 2026-12-07: 0.0083 of the spread at most. Bound: 0.1.
TEST(ComputePrecision, Bf16EncoderLogitsAreCloseToFp32AtRealWidth) {
  SKIP_UNLESS_COMPUTE_AVAILABLE(ComputePrecision::bf16);
  const double off = max_difference_over_spread(encoder_logits(ComputePrecision::fp32),
                                                encoder_logits(ComputePrecision::bf16));
  std::printf("max difference / spread %g\n", off);
  EXPECT_LT(off, 0.1);
  EXPECT_GT(off, 1e-4) << "bf16 gave fp32's logits: were the products rounded at all?";
}

// MeZO steps on a bf16 model write a trajectory like any other, and replay()
// rebuilds the trained fp32 masters from the initial ones bit for bit: the
// forward's precision reaches the log only through the projected gradients.
TEST(ComputePrecision, Bf16StepsReplayBitForBit) {
  SKIP_UNLESS_COMPUTE_AVAILABLE(ComputePrecision::bf16);
  mezo_test::TempDir dir;
  const auto config = mezo_test::smollm2_width_config();
  const auto options = mezo::ModelOptions{.num_threads = 2, .compute = ComputePrecision::bf16};
  auto model = mezo::CausalLM::random(config, 13, options);
  const auto batch = mezo_test::decoder_batch(8, 20, 3, config.vocab_size);
  std::vector<mezo::TokenQuery> last;
  for (std::int64_t r = 0; r < batch.rows; ++r) last.push_back({r, batch.lengths[r] - 1});
  const std::vector<std::int32_t> label_ids = {5, 7}, labels = {0, 1, 0, 1, 0, 1, 0, 1};
  std::vector<float> logits(last.size() * 2);
  const mezo::CrossEntropy cross_entropy;
  const auto loss = [&] {
    model.logits(batch, last, label_ids, logits);
    return cross_entropy({logits.data(), batch.rows, 2}, labels);
  };
  mezo::ZoSgd opt({.lr = 1e-3f, .eps = 1e-3f});
  auto log = mezo::TrajectoryWriter::create(dir.path() / "run.mezotrj",
                                            mezo::make_trajectory_header(opt, {}, 42));
  const mezo::SeedSchedule seeds(42);
  for (std::int64_t t = 0; t < 3; ++t) {
    const mezo::StepResult r = mezo::step(model.params(), opt, loss, seeds.seed_for_step(t));
    ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
    EXPECT_NE(r.projected_grad, 0.0f);
    log.append(t, r);
  }
  log.sync();
  auto fresh = mezo::CausalLM::random(config, 13, options);
  mezo::replay(fresh.params(), *mezo::gaussian_perturbation(),
               mezo::read_trajectory(dir.path() / "run.mezotrj"));
  mezo_test::expect_same_params(model, fresh);
}

}  // namespace
