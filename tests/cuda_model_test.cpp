// GpuMaskedLM against the CPU MaskedLM: the whole forward (fp32 and bf16
// weights, unprobed and probed), MeZO steps through its DeferredPerturbation,
// exact bf16 restore over 1,000 steps, and peak device memory of training
// against inference. Needs a GPU; without one every case skips and says so.
//
// Tolerance: the two forwards differ by summation order only (cuBLAS GEMMs and
// block reductions vs Eigen; no TF32 in a default context). Through a few
// layers that is a few ulps of the largest activations; 1e-4·max(1, |x|) on
// the logits is ~100× that and far below the O(0.1) a wrong weight, a wrong
// probe or a layout bug moves them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <mezo/bf16.hpp>
#include <mezo/gpu.hpp>
#include <mezo/mezo.hpp>
#include <mezo/model/gpu_masked_lm.hpp>
#include <vector>

#include "cuda_test_support.hpp"
#include "model_test_support.hpp"

namespace {

const std::filesystem::path kFixtures = MEZO_TEST_FIXTURES_DIR;

float max_scaled_difference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(1.0f, std::abs(a[i])));
  }
  return worst;
}

constexpr float kTolerance = 1e-4f;

struct Request {
  mezo::TokenBatch batch;
  std::vector<mezo::MaskQuery> queries;
  std::vector<std::int32_t> vocab_ids;
};

// Padded rows of different lengths, one query per row, two label words.
Request request_for(const mezo::TransformerConfig& config) {
  Request r;
  std::vector<std::vector<std::int32_t>> rows;
  const std::int32_t vocab = static_cast<std::int32_t>(config.vocab_size);
  for (int row = 0; row < 5; ++row) {
    rows.emplace_back();
    for (int t = 0; t < 6 + 4 * row; ++t) rows.back().push_back(3 + (row * 29 + t * 13) % (vocab - 3));
    r.queries.push_back({row, 2 + row});
  }
  r.batch = mezo::TokenBatch::pad(rows, static_cast<std::int32_t>(config.pad_token_id));
  r.vocab_ids = {5, vocab - 7};
  return r;
}

std::vector<float> logits(mezo::MaskedLM& model, const Request& r, bool all_columns = false) {
  const std::size_t columns = all_columns ? model.config().vocab_size : r.vocab_ids.size();
  std::vector<float> out(r.queries.size() * columns);
  model.mlm_logits(r.batch, r.queries,
                   all_columns ? std::span<const std::int32_t>() : r.vocab_ids, out);
  return out;
}

std::vector<float> logits(mezo::GpuMaskedLM& model, const Request& r, bool all_columns = false) {
  const std::size_t columns = all_columns ? model.config().vocab_size : r.vocab_ids.size();
  std::vector<float> out(r.queries.size() * columns);
  model.mlm_logits(r.batch, r.queries,
                   all_columns ? std::span<const std::int32_t>() : r.vocab_ids, out);
  return out;
}

// Cross-entropy of label 0 for even rows and label 1 for odd rows.
float cross_entropy(const std::vector<float>& two_column_logits) {
  double total = 0.0;
  const std::size_t rows = two_column_logits.size() / 2;
  for (std::size_t i = 0; i < rows; ++i) {
    const float a = two_column_logits[2 * i], b = two_column_logits[2 * i + 1];
    const float m = std::max(a, b);
    const float log_sum = m + std::log(std::exp(a - m) + std::exp(b - m));
    total += log_sum - (i % 2 == 0 ? a : b);
  }
  return static_cast<float>(total / rows);
}

std::vector<float> host_weights(const mezo::MaskedLM& model) {
  std::vector<float> all;
  for (const mezo::ParamView& v : model.params().views())
    all.insert(all.end(), v.f32(), v.f32() + v.size);
  return all;
}

void round_weights_to_bf16(mezo::MaskedLM& model) {
  for (const mezo::ParamView& v : model.params().views())
    for (std::uint64_t j = 0; j < v.size; ++j) v.f32()[j] = mezo::round_to_bf16(v.f32()[j]);
}

TEST(CudaModel, ForwardMatchesTheCpuOnTheFixtures) {
  REQUIRE_GPU();
  for (const char* fixture : {"tiny-roberta", "tiny-bert"}) {
    SCOPED_TRACE(fixture);
    mezo::MaskedLM cpu = mezo::MaskedLM::load(kFixtures / fixture);
    mezo::GpuContext gpu;
    mezo::GpuMaskedLM model(cpu, gpu);
    const Request r = request_for(cpu.config());
    EXPECT_LT(max_scaled_difference(logits(cpu, r), logits(model, r)), kTolerance);
    EXPECT_LT(max_scaled_difference(logits(cpu, r, true), logits(model, r, true)), kTolerance);
  }
}

TEST(CudaModel, Bf16ForwardMatchesTheCpuOnTheSameRoundedWeights) {
  REQUIRE_GPU();
  mezo::MaskedLM cpu = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  mezo::GpuContext gpu;
  mezo::GpuMaskedLM model(cpu, gpu, {.weights = mezo::DType::bf16});
  EXPECT_EQ(model.params().views().front().dtype, mezo::DType::bf16);
  const Request r = request_for(cpu.config());
  const std::vector<float> fp32_logits = logits(cpu, r);
  round_weights_to_bf16(cpu);  // now the CPU computes with exactly the GPU's weights
  const std::vector<float> bf16_logits = logits(model, r);
  EXPECT_LT(max_scaled_difference(logits(cpu, r), bf16_logits), kTolerance);
  // and rounding the weights did change the model (the comparison has teeth)
  EXPECT_GT(max_scaled_difference(fp32_logits, bf16_logits), kTolerance);
}

TEST(CudaModel, ProbedForwardMatchesTheCpuAtThePerturbedWeights) {
  REQUIRE_GPU();
  mezo::MaskedLM cpu = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  mezo::GpuContext gpu;
  mezo::GpuMaskedLM model(cpu, gpu);
  const Request r = request_for(cpu.config());
  const std::vector<float> unprobed = logits(model, r);

  const mezo::ZTerm plus{1234, 1e-2f};
  mezo::ParamPass probe;
  probe.terms = {&plus, 1};
  probe.probe = true;
  model.perturbation()->apply(model.params(), probe);
  mezo::perturb_inplace(cpu.params(), *mezo::gaussian_perturbation(), plus.seed, plus.coef);
  const std::vector<float> probed = logits(model, r);
  EXPECT_LT(max_scaled_difference(logits(cpu, r), probed), kTolerance);
  EXPECT_GT(max_scaled_difference(unprobed, probed), 10 * kTolerance);
}

TEST(CudaModel, StepsMatchTheCpuAndLeaveNoProbeBehind) {
  REQUIRE_GPU();
  mezo::MaskedLM cpu = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  mezo::GpuContext gpu;
  mezo::GpuMaskedLM model(cpu, gpu);
  const Request r = request_for(cpu.config());
  const mezo::ZoSgdConfig config{.lr = 1e-2f, .eps = 1e-3f};
  mezo::ZoSgd cpu_optimizer(config);
  mezo::ZoSgd gpu_optimizer(config, model.perturbation());
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto cpu_step = mezo::step(
        cpu.params(), cpu_optimizer, [&] { return cross_entropy(logits(cpu, r)); }, seed);
    const auto gpu_step = mezo::step(
        model.params(), gpu_optimizer, [&] { return cross_entropy(logits(model, r)); }, seed);
    ASSERT_EQ(gpu_step.status, mezo::StepStatus::ok) << gpu_step.message;
    EXPECT_NEAR(cpu_step.loss_plus, gpu_step.loss_plus, kTolerance);
    EXPECT_NEAR(cpu_step.loss_minus, gpu_step.loss_minus, kTolerance);
    EXPECT_NE(gpu_step.loss_plus, gpu_step.loss_minus);  // the probe reached the forward
    EXPECT_EQ(gpu_step.journal_entries, 0u);
    EXPECT_TRUE(model.perturbation()->probe().empty());
  }
  mezo::MaskedLM downloaded = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  model.download(downloaded);
  const std::vector<float> a = host_weights(cpu), b = host_weights(downloaded);
  EXPECT_LT(max_scaled_difference(a, b), 1e-5f);
  EXPECT_GT(max_scaled_difference(host_weights(mezo::MaskedLM::load(kFixtures / "tiny-roberta")), b),
            0.0f);  // the updates were written
}

TEST(CudaModel, Bf16WeightsAreBitIdenticalAfter1000StepsWithLrZero) {
  REQUIRE_GPU();
  mezo::MaskedLM cpu = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  mezo::GpuContext gpu;
  mezo::GpuMaskedLM model(cpu, gpu, {.weights = mezo::DType::bf16});
  const Request r = request_for(cpu.config());
  mezo::ZoSgd optimizer({.lr = 0.0f, .eps = 1e-3f}, model.perturbation());
  mezo::MaskedLM before = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  model.download(before);
  int moved = 0;
  for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
    const auto result = mezo::step(
        model.params(), optimizer, [&] { return cross_entropy(logits(model, r)); }, seed);
    ASSERT_EQ(result.status, mezo::StepStatus::ok) << result.message;
    moved += result.loss_plus != result.loss_minus;
  }
  EXPECT_GT(moved, 900);  // the probes did perturb the bf16 forward
  mezo::MaskedLM after = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  model.download(after);
  const std::vector<float> a = host_weights(before), b = host_weights(after);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

TEST(CudaModel, StepPeakMemoryIsTheInferencePeak) {
  REQUIRE_GPU();
  const mezo::MaskedLM cpu = mezo::MaskedLM::random(mezo_test::multi_piece_config(), 7);
  for (const mezo::DType dtype : {mezo::DType::f32, mezo::DType::bf16}) {
    SCOPED_TRACE(mezo::to_string(dtype));
    mezo::GpuContext gpu;
    mezo::GpuMaskedLM model(cpu, gpu, {.weights = dtype});
    Request r;
    r.batch = mezo_test::multi_piece_batch();
    for (std::int64_t row = 0; row < r.batch.rows; ++row) r.queries.push_back({row, 3});
    r.vocab_ids = {11, 12};
    gpu.reset_peak();
    const float inference_loss = cross_entropy(logits(model, r));
    const std::uint64_t inference_peak = gpu.memory().peak_bytes;
    mezo::ZoSgd optimizer({.lr = 1e-3f, .eps = 1e-3f}, model.perturbation());
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      mezo::step(model.params(), optimizer, [&] { return cross_entropy(logits(model, r)); }, seed);
    }
    const std::uint64_t training_peak = gpu.memory().peak_bytes;
    EXPECT_GT(inference_peak, model.params().num_elements() * mezo::size_of(dtype));
    EXPECT_LE(static_cast<double>(training_peak), 1.01 * static_cast<double>(inference_peak))
        << "inference " << inference_peak << " bytes, training " << training_peak << " bytes";
    EXPECT_TRUE(std::isfinite(inference_loss));
  }
}

TEST(CudaModel, Fp32DownloadReturnsTheUploadedBits) {
  REQUIRE_GPU();
  mezo::MaskedLM cpu = mezo::MaskedLM::load(kFixtures / "tiny-bert");
  mezo::GpuContext gpu;
  const mezo::GpuMaskedLM model(cpu, gpu);
  mezo::MaskedLM copy = mezo::MaskedLM::random(cpu.config(), 99);
  model.download(copy);
  const std::vector<float> a = host_weights(cpu), b = host_weights(copy);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

TEST(CudaModel, BadRequestsAreTheCpusClearErrors) {
  REQUIRE_GPU();
  mezo::MaskedLM cpu = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  mezo::GpuContext gpu;
  mezo::GpuMaskedLM model(cpu, gpu);
  Request r = request_for(cpu.config());
  r.batch.ids[3] = static_cast<std::int32_t>(cpu.config().vocab_size);
  std::vector<float> out(r.queries.size() * 2);
  try {
    model.mlm_logits(r.batch, r.queries, r.vocab_ids, out);
    FAIL() << "expected mezo::Error";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("outside the vocabulary"), std::string::npos) << e.what();
  }
  std::vector<float> short_out(1);
  r = request_for(cpu.config());
  EXPECT_THROW(model.mlm_logits(r.batch, r.queries, r.vocab_ids, short_out), mezo::Error);
}

}  // namespace
