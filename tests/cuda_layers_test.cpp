// The CUDA backend's Context and transformer kernels (cuda/) against their CPU
// twins (src/model/ops/ops.hpp and the embedding sum and masked-LM head of
// src/model/bert/masked_lm.cpp). The kernel cases need a GPU and skip, saying why,
// without one; the Context error cases run everywhere.
//
// Tolerances. The GPU and the CPU do the same fp32 operations, but sums (GEMMs,
// LayerNorm's mean and variance, softmax denominators) add their terms in a
// different order. Two fp32 evaluations of a k-term sum in any orders differ
// by at most 2·γ_k·Σ|terms|, γ_k ≈ k·u, u = 2⁻²⁴ (Higham, Accuracy and
// Stability, §3.1), so each comparison below is bounded by that worst case for
// its own sizes, computed per element where cheap. The Context computes plain
// fp32 (no TF32), which these bounds assume; TF32's 2⁻¹¹ input rounding would
// need far looser ones. A real bug (a wrong stride, a mask off by one, a
// missing residual) moves outputs by O(1) relative to these bounds.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mezo/mezo.hpp>
#include <random>
#include <string>
#include <vector>

#include "cuda_context.hpp"
#include "cuda_test_support.hpp"
#include "model/ops/ops.hpp"
#include "transformer_layers.hpp"

namespace {

namespace layers = mezo::cuda::layers;
namespace cpu = mezo::model::cpu;
constexpr double kUnitRoundoff = 1.0 / (1 << 24);  // u for fp32

// A device copy of a host vector; errors become mezo::Error (test failures).
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(const std::vector<T>& host) : size_(host.size()) {
    mezo::cuda::check_cuda(cudaMalloc(&ptr_, bytes()), "cudaMalloc (test)");
    mezo::cuda::check_cuda(cudaMemcpy(ptr_, host.data(), bytes(), cudaMemcpyHostToDevice),
                           "cudaMemcpy (test upload)");
  }
  ~DeviceArray() { (void)cudaFree(ptr_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return static_cast<T*>(ptr_); }
  std::vector<T> download() const {
    std::vector<T> host(size_);
    mezo::cuda::check_cuda(cudaMemcpy(host.data(), ptr_, bytes(), cudaMemcpyDeviceToHost),
                           "cudaMemcpy (test download)");
    return host;
  }

 private:
  std::size_t bytes() const { return std::max<std::size_t>(size_, 1) * sizeof(T); }
  void* ptr_ = nullptr;
  std::size_t size_;
};

std::vector<float> random_vector(std::size_t n, unsigned seed, float stddev = 1.0f,
                                 float mean = 0.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(mean, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = d(gen);
  return v;
}

std::vector<float> absolute(std::vector<float> v) {
  for (float& x : v) x = std::fabs(x);
  return v;
}

float max_abs(const std::vector<float>& v) {
  float m = 0.0f;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

// Element-wise |got − want| ≤ tol[i]; reports the worst element.
void expect_close(const std::vector<float>& got, const std::vector<float>& want,
                  const std::vector<double>& tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  std::size_t worst = 0;
  double worst_ratio = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double diff = std::fabs(double(got[i]) - double(want[i]));
    const double ratio = std::isfinite(got[i]) ? diff / tol[i] : INFINITY;
    if (ratio > worst_ratio) worst_ratio = ratio, worst = i;
  }
  EXPECT_LE(worst_ratio, 1.0) << what << ": element " << worst << " is " << got[worst]
                              << " on the GPU, " << want[worst] << " on the CPU, tolerance "
                              << tol[worst];
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tol,
                  const std::string& what) {
  expect_close(got, want, std::vector<double>(want.size(), tol), what);
}

// ---- Context: error handling runs on every machine ----

TEST(CudaContext, ConstructingWithoutAUsableDeviceThrowsAClearMezoError) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  (void)cudaGetLastError();
  if (status == cudaSuccess && count > 0) {
    // With a GPU: an ordinal past the last device is the caller's error.
    try {
      mezo::cuda::Context ctx({.device = count});
      FAIL() << "a Context on device " << count << " of " << count << " was created";
    } catch (const mezo::Error& e) {
      EXPECT_EQ(e.code(), mezo::ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("CUDA device " + std::to_string(count) + " requested"),
                std::string::npos)
          << e.what();
    }
    return;
  }
  // Without one (this is what runs on GPU-less CI machines): a mezo::Error,
  // code unsupported, whose message says what was tried and CUDA's reason.
  try {
    mezo::cuda::Context ctx;
    FAIL() << "a Context was created on a machine without a usable CUDA device";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::unsupported);
    const std::string message = e.what();
    EXPECT_NE(message.find("mezo::cuda::Context: no"), std::string::npos) << message;
    if (status != cudaSuccess) {
      EXPECT_NE(message.find(std::string("cudaGetDeviceCount failed: ") + cudaGetErrorName(status) +
                             ": " + cudaGetErrorString(status)),
                std::string::npos)
          << message;
    } else {
      EXPECT_NE(message.find("no CUDA device on this machine"), std::string::npos) << message;
    }
  }
}

TEST(CudaContext, ErrorHelpersNameTheCallAndTheCudaError) {
  EXPECT_NO_THROW(mezo::cuda::check_cuda(cudaSuccess, "cudaMalloc"));
  EXPECT_NO_THROW(mezo::cuda::check_cublas(CUBLAS_STATUS_SUCCESS, "cublasCreate"));
  try {
    mezo::cuda::check_cuda(cudaErrorMemoryAllocation, "cudaMalloc of 42 bytes");
    FAIL() << "check_cuda did not throw";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::internal);
    EXPECT_EQ(std::string(e.what()),
              std::string("CUDA backend: cudaMalloc of 42 bytes failed: cudaErrorMemoryAllocation: ") +
                  cudaGetErrorString(cudaErrorMemoryAllocation));
  }
  try {
    mezo::cuda::check_cublas(CUBLAS_STATUS_NOT_INITIALIZED, "cublasCreate");
    FAIL() << "check_cublas did not throw";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::internal);
    EXPECT_NE(std::string(e.what()).find("cublasCreate failed: CUBLAS_STATUS_NOT_INITIALIZED: "),
              std::string::npos)
        << e.what();
  }
}

// ---- Context on a GPU ----

TEST(CudaContext, OwnsAStreamAHandleOnItAndAGrowableWorkspace) {
  REQUIRE_GPU();
  mezo::cuda::Context ctx;
  ASSERT_NE(ctx.stream(), nullptr);
  cudaStream_t handle_stream = nullptr;
  ASSERT_EQ(cublasGetStream(ctx.cublas(), &handle_stream), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(handle_stream, ctx.stream());
  cublasMath_t math{};
  ASSERT_EQ(cublasGetMathMode(ctx.cublas(), &math), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(math, CUBLAS_DEFAULT_MATH);
  void* small = ctx.workspace(1000);
  EXPECT_NE(small, nullptr);
  EXPECT_GE(ctx.workspace_bytes(), 1000u);
  EXPECT_EQ(ctx.workspace(10), small);  // no reallocation when it fits
  ctx.workspace(std::size_t{64} << 20);
  EXPECT_GE(ctx.workspace_bytes(), std::size_t{64} << 20);

  mezo::cuda::Context moved = std::move(ctx);
  EXPECT_NE(moved.stream(), nullptr);
  EXPECT_THROW((void)ctx.stream(), mezo::Error);  // NOLINT(bugprone-use-after-move)
  moved.synchronize();
}

// ---- Kernels against their CPU twins ----

TEST(CudaLayers, LinearMatchesTheCpu) {
  REQUIRE_GPU();
  mezo::cuda::Context ctx;
  struct Shape {
    std::int64_t n, in, out;
    bool bias;
  };
  // Odd sizes (no multiple of a tile), both of the CPU's cut directions, no bias.
  for (const Shape s : {Shape{37, 129, 65, true}, Shape{5, 768, 3072, true},
                        Shape{300, 64, 17, false}, Shape{1, 1, 1, true}}) {
    const auto x = random_vector(s.n * s.in, 1), w = random_vector(s.out * s.in, 2, 0.05f),
               b = random_vector(s.out, 3);
    std::vector<float> want(s.n * s.out), magnitude(s.n * s.out);
    cpu::linear(x.data(), s.n, s.in, w.data(), s.bias ? b.data() : nullptr, s.out, want.data());
    cpu::linear(absolute(x).data(), s.n, s.in, absolute(w).data(), nullptr, s.out,
                magnitude.data());
    DeviceArray<float> dx(x), dw(w), db(b), dy(std::vector<float>(s.n * s.out, NAN));
    layers::linear(ctx, dx.get(), s.n, s.in, dw.get(), s.bias ? db.get() : nullptr, s.out,
                   dy.get());
    ctx.synchronize();
    // Two orders of an in-term dot product, then one rounding for the bias.
    std::vector<double> tol(want.size());
    for (std::size_t i = 0; i < tol.size(); ++i)
      tol[i] = 2.0 * (s.in + 1) * kUnitRoundoff * (magnitude[i] + std::fabs(want[i])) + 1e-30;
    expect_close(dy.download(), want, tol,
                 "linear " + std::to_string(s.n) + "x" + std::to_string(s.in) + "->" +
                     std::to_string(s.out));
  }
}

// LayerNorm tolerance: the mean and the variance are h-term sums, each off by
// at most 2·h·u relative to the sum of magnitudes; for rows with |mean| small
// against the standard deviation that moves an output by at most about
// 4·h·u·max|g|·(1 + |normalised value|). Used for embeddings too.
std::vector<double> layer_norm_tolerance(const std::vector<float>& want, std::int64_t h,
                                         const std::vector<float>& g, const std::vector<float>& b) {
  std::vector<double> tol(want.size());
  const double gmax = max_abs(g);
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double normalised = std::fabs(double(want[i]) - b[i % h]) / std::max(1e-30, gmax);
    tol[i] = 4.0 * h * kUnitRoundoff * gmax * (1.0 + normalised) + 1e-30;
  }
  return tol;
}

TEST(CudaLayers, AddLayerNormMatchesTheCpu) {
  REQUIRE_GPU();
  mezo::cuda::Context ctx;
  for (const std::int64_t h : {768, 50, 1, 1100}) {  // 50 and 1100: not multiples of the block
    for (const bool with_residual : {true, false}) {
      const std::int64_t n = 19;
      const auto x = random_vector(n * h, 4, 1.0f, 0.3f), residual = random_vector(n * h, 5),
                 g = random_vector(h, 6, 0.2f, 1.0f), b = random_vector(h, 7, 0.1f);
      auto want = x;
      cpu::add_layer_norm(want.data(), with_residual ? residual.data() : nullptr, n, h, g.data(),
                          b.data(), 1e-5f);
      DeviceArray<float> dx(x), dr(residual), dg(g), db(b);
      layers::add_layer_norm(ctx, dx.get(), with_residual ? dr.get() : nullptr, n, h, dg.get(),
                             db.get(), 1e-5f);
      ctx.synchronize();
      expect_close(dx.download(), want, layer_norm_tolerance(want, h, g, b),
                   "add_layer_norm h=" + std::to_string(h) +
                       (with_residual ? " with residual" : " without residual"));
    }
  }
}

TEST(CudaLayers, BiasGeluMatchesTheCpuAndIgnoresTheLaunchShape) {
  REQUIRE_GPU();
  mezo::cuda::Context ctx;
  const std::int64_t n = 33, cols = 3072 + 5;
  const auto x = random_vector(n * cols, 8, 3.0f), bias = random_vector(cols, 9);
  auto want = x;
  for (std::int64_t r = 0; r < n; ++r)
    for (std::int64_t c = 0; c < cols; ++c) want[r * cols + c] += bias[c];
  const auto pre_activation = want;
  cpu::gelu(want.data(), n * cols);
  DeviceArray<float> dx(x), dbias(bias);
  layers::bias_gelu(ctx, dx.get(), dbias.get(), n, cols);
  // The same elements row by row: another grid, the same bits expected.
  DeviceArray<float> dx_rows(x);
  for (std::int64_t r = 0; r < n; ++r)
    layers::bias_gelu(ctx, dx_rows.get() + r * cols, dbias.get(), 1, cols);
  ctx.synchronize();
  // GELU(v) = v/2·(1 + erf(v/√2)): CUDA's erff (≤ 2 ulp) and Eigen's erf (a
  // few ulp) differ by under 8 ulp of 1, i.e. 1e-6·|v| after the v/2 factor,
  // plus the final roundings.
  std::vector<double> tol(want.size());
  for (std::size_t i = 0; i < tol.size(); ++i)
    tol[i] = 1e-6 * std::max(1.0f, std::fabs(pre_activation[i]));
  const auto got = dx.download();
  expect_close(got, want, tol, "bias_gelu");
  EXPECT_EQ(std::memcmp(got.data(), dx_rows.download().data(), got.size() * sizeof(float)), 0)
      << "bias_gelu depends on the launch shape";

  // Without a bias: the twin of cpu::gelu itself.
  auto plain = x;
  cpu::gelu(plain.data(), n * cols);
  DeviceArray<float> dplain(x);
  layers::bias_gelu(ctx, dplain.get(), nullptr, n, cols);
  ctx.synchronize();
  for (std::size_t i = 0; i < tol.size(); ++i) tol[i] = 1e-6 * std::max(1.0f, std::fabs(x[i]));
  expect_close(dplain.download(), plain, tol, "bias_gelu without bias");
}

TEST(CudaLayers, EmbeddingsMatchTheCpuForward) {
  REQUIRE_GPU();
  mezo::cuda::Context ctx;
  const std::int64_t vocab = 50, max_positions = 40, types = 2, h = 96, rows = 2, seq = 12;
  const std::int64_t n = rows * seq;
  const auto word = random_vector(vocab * h, 10), position = random_vector(max_positions * h, 11),
             token_type = random_vector(types * h, 12), g = random_vector(h, 13, 0.2f, 1.0f),
             b = random_vector(h, 14, 0.1f);
  // RoBERTa-style positions (pad_token_id 1, real tokens from 2), second row padded.
  const std::int32_t pad = 1;
  std::vector<std::int32_t> ids(n), positions(n), token_types(n);
  std::mt19937 gen(15);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t length = r == 0 ? seq : 7;
    for (std::int64_t t = 0; t < seq; ++t) {
      const std::int64_t i = r * seq + t;
      ids[i] = t < length ? static_cast<std::int32_t>(2 + gen() % (vocab - 2)) : pad;
      positions[i] = t < length ? static_cast<std::int32_t>(pad + 1 + t) : pad;
      token_types[i] = static_cast<std::int32_t>(t % types);
    }
  }
  for (const bool with_types : {false, true}) {
    std::vector<float> want(n * h);
    for (std::int64_t i = 0; i < n; ++i) {  // src/model/bert/masked_lm.cpp's sum, in its order
      const float* w = word.data() + ids[i] * h;
      const float* p = position.data() + positions[i] * h;
      const float* t = token_type.data() + (with_types ? token_types[i] * h : 0);
      for (std::int64_t j = 0; j < h; ++j) want[i * h + j] = w[j] + t[j] + p[j];
    }
    cpu::add_layer_norm(want.data(), nullptr, n, h, g.data(), b.data(), 1e-5f);
    DeviceArray<float> dword(word), dposition(position), dtype(token_type), dg(g), db(b),
        dout(std::vector<float>(n * h, NAN));
    DeviceArray<std::int32_t> dids(ids), dpositions(positions), dtypes(token_types);
    layers::embeddings(ctx, dids.get(), dpositions.get(), with_types ? dtypes.get() : nullptr, n,
                       h, dword.get(), dposition.get(), dtype.get(), dg.get(), db.get(), 1e-5f,
                       dout.get());
    ctx.synchronize();
    expect_close(dout.download(), want, layer_norm_tolerance(want, h, g, b),
                 with_types ? "embeddings with token types" : "embeddings, segment 0");
  }
}

TEST(CudaLayers, MaskedAttentionMatchesTheCpuOnPaddedRows) {
  REQUIRE_GPU();
  mezo::cuda::Context ctx;
  struct Shape {
    std::int64_t rows, seq, heads, head_dim;
    std::vector<std::int32_t> lengths;
  };
  // Full, padded, length-1 and empty rows; a sequence longer than a warp.
  for (const Shape& s : {Shape{4, 13, 4, 16, {13, 7, 1, 0}}, Shape{2, 77, 2, 64, {77, 40}},
                         Shape{3, 128, 12, 64, {128, 100, 33}}}) {
    const std::int64_t width = s.heads * s.head_dim, count = s.rows * s.seq * width;
    // Padding positions hold ordinary values too: they must be masked, not zero.
    const auto q = random_vector(count, 16, 0.5f), k = random_vector(count, 17, 0.5f),
               v = random_vector(count, 18);
    std::vector<float> want(count, NAN), scratch(s.seq * s.seq);
    const cpu::AttentionShape shape{.rows = s.rows, .seq = s.seq, .heads = s.heads,
                                    .kv_heads = s.heads, .head_dim = s.head_dim};
    cpu::attention(shape, q.data(), k.data(), v.data(), s.lengths.data(), want.data(),
                   scratch.data(), 1);
    DeviceArray<float> dq(q), dk(k), dv(v), dout(std::vector<float>(count, NAN));
    DeviceArray<std::int32_t> dlengths(s.lengths);
    layers::attention(ctx, dq.get(), dk.get(), dv.get(), s.rows, s.seq, s.heads, s.head_dim,
                      dlengths.get(), dout.get());
    ctx.synchronize();
    // A score is a head_dim-term dot product: with |q|, |k| ~ 0.5 its worst
    // order difference is ≤ 2·d·u·Σ|q·k|·scale ≈ 1e-5 for d = 64, moving every
    // probability by that relative amount; the ·V sum adds ≤ 2·seq·u·max|v|.
    const double tol = (2e-5 + 2.0 * s.seq * kUnitRoundoff) * max_abs(v) * 4.0;
    expect_close(dout.download(), want, tol,
                 "attention rows=" + std::to_string(s.rows) + " seq=" + std::to_string(s.seq) +
                     " heads=" + std::to_string(s.heads) + " d=" + std::to_string(s.head_dim));
  }
}

TEST(CudaLayers, MaskedLmHeadGathersMatchTheCpuHead) {
  REQUIRE_GPU();
  mezo::cuda::Context ctx;
  // hidden (rows·seq, H); queries at (row, position); logits for selected ids
  // only, as MaskedLM::mlm_logits computes them with a vocabulary subset.
  const std::int64_t rows = 3, seq = 9, h = 64, vocab = 1000;
  const auto hidden = random_vector(rows * seq * h, 19), decoder = random_vector(vocab * h, 20),
             decoder_b = random_vector(vocab, 21);
  const std::vector<std::int32_t> query_index = {0 * seq + 4, 1 * seq + 0, 2 * seq + 8};
  const std::vector<std::int32_t> ids = {999, 7, 0, 500, 7};
  const std::int64_t nq = query_index.size(), columns = ids.size();
  std::vector<float> want(nq * columns), magnitude(nq * columns);
  for (std::int64_t i = 0; i < nq; ++i) {  // src/model/bert/masked_lm.cpp's loop
    const float* x = hidden.data() + query_index[i] * h;
    for (std::int64_t j = 0; j < columns; ++j) {
      const float* d = decoder.data() + ids[j] * h;
      float dot = 0.0f, mag = 0.0f;
      for (std::int64_t e = 0; e < h; ++e) dot += x[e] * d[e], mag += std::fabs(x[e] * d[e]);
      want[i * columns + j] = dot + decoder_b[ids[j]];
      magnitude[i * columns + j] = mag;
    }
  }
  DeviceArray<float> dhidden(hidden), ddecoder(decoder), ddecoder_b(decoder_b),
      dhead_in{std::vector<float>(nq * h)}, dselected_w{std::vector<float>(columns * h)},
      dselected_b{std::vector<float>(columns)}, dlogits{std::vector<float>(nq * columns, NAN)};
  DeviceArray<std::int32_t> dquery(query_index), dids(ids);
  layers::gather_rows(ctx, dhidden.get(), h, dquery.get(), nq, dhead_in.get());
  layers::gather_rows(ctx, ddecoder.get(), h, dids.get(), columns, dselected_w.get());
  layers::gather_rows(ctx, ddecoder_b.get(), 1, dids.get(), columns, dselected_b.get());
  layers::linear(ctx, dhead_in.get(), nq, h, dselected_w.get(), dselected_b.get(), columns,
                 dlogits.get());
  ctx.synchronize();
  // Gathers copy bits.
  const auto head_in = dhead_in.download();
  for (std::int64_t i = 0; i < nq; ++i)
    EXPECT_EQ(std::memcmp(head_in.data() + i * h, hidden.data() + query_index[i] * h, h * 4), 0)
        << "query " << i;
  const auto selected_b = dselected_b.download();
  for (std::int64_t j = 0; j < columns; ++j) EXPECT_EQ(selected_b[j], decoder_b[ids[j]]);
  std::vector<double> tol(want.size());
  for (std::size_t i = 0; i < tol.size(); ++i)
    tol[i] = 2.0 * (h + 1) * kUnitRoundoff * (magnitude[i] + std::fabs(want[i])) + 1e-30;
  expect_close(dlogits.download(), want, tol, "masked-LM logits for selected ids");
}

TEST(CudaLayers, RejectsSizesCublasCannotTake) {
  REQUIRE_GPU();
  mezo::cuda::Context ctx;
  try {
    layers::linear(ctx, nullptr, std::int64_t{1} << 32, 4, nullptr, nullptr, 4, nullptr);
    FAIL() << "linear accepted n = 2^32";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("linear: n = 4294967296"), std::string::npos) << e.what();
  }
}

}  // namespace
