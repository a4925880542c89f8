// Bf16Linear (ComputePrecision::bf16's products) against a double-precision
// reference of bf16-rounded inputs, across piece layouts; its bits on 1, 2
// and 3 threads at real width; and its refusal where oneDNN has only its
// reference code.
#include "model/ops/bf16_linear.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "mezo/bf16.hpp"
#include "model/ops/ops.hpp"
#include "test_support.hpp"

#if MEZO_TEST_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

namespace cpu = mezo::model::cpu;
using mezo_test::random_f32;

struct Shape {
  std::int64_t n, in, out;
};

// y = x·wᵀ + b in double, from x and w as given (pass them rounded to bf16
// for Bf16Linear's reference); also Σ|x||w| per output, the scale of its
// fp32 accumulation error.
void reference(const std::vector<float>& x, const std::vector<float>& w, const float* b,
               const Shape& s, std::vector<double>& y, std::vector<double>& magnitude) {
  y.assign(static_cast<std::size_t>(s.n * s.out), 0.0);
  magnitude.assign(y.size(), 0.0);
  for (std::int64_t i = 0; i < s.n; ++i) {
    for (std::int64_t j = 0; j < s.out; ++j) {
      double dot = b != nullptr ? b[j] : 0.0, abs = 0.0;
      for (std::int64_t e = 0; e < s.in; ++e) {
        const double p = double{x[i * s.in + e]} * w[j * s.in + e];
        dot += p, abs += std::abs(p);
      }
      y[i * s.out + j] = dot, magnitude[i * s.out + j] = abs;
    }
  }
}

std::vector<float> rounded(std::vector<float> v) {
  for (float& x : v) x = mezo::round_to_bf16(x);
  return v;
}

#if MEZO_TEST_WITH_ONEDNN

// Every layout linear_pieces makes: one piece (n < 256), rows cut into equal
// pieces, rows with a shorter last piece, columns (w's rows) cut with and
// without a shorter last piece, with and without a bias.
TEST(Bf16Linear, MatchesBf16RoundedInputsAccumulatedInDouble) {
  SKIP_UNLESS_COMPUTE_AVAILABLE(mezo::ComputePrecision::bf16);
  const Shape shapes[] = {
      {3, 576, 40}, {1024, 576, 576}, {1000, 320, 200}, {300, 576, 1536}, {200, 256, 1000}};
  cpu::Bf16Linear bf16;
  for (const Shape& s : shapes) {
    const auto x = random_f32(s.n * s.in, 1, 1.0f), w = random_f32(s.out * s.in, 2, 0.05f);
    const auto b = random_f32(s.out, 3, 1.0f);
    std::vector<double> want16, want32, magnitude;
    reference(x, w, nullptr, s, want32, magnitude);
    for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
      reference(rounded(x), rounded(w), bias, s, want16, magnitude);
      std::vector<float> y(static_cast<std::size_t>(s.n * s.out));
      bf16(x.data(), s.n, s.in, w.data(), bias, s.out, y.data());
      double off16 = 0, off32 = 0;
      for (std::size_t i = 0; i < y.size(); ++i) {
        // fp32 accumulation of exact bf16 products: far below bf16's 2⁻⁹.
        ASSERT_NEAR(y[i], want16[i], 1e-5 * magnitude[i] + 1e-6)
            << "shape " << s.n << "x" << s.in << "x" << s.out << ", output " << i;
        off16 += std::abs(y[i] - want16[i]);
        off32 += std::abs(y[i] - (want32[i] + (bias != nullptr ? bias[i % s.out] : 0.0)));
      }
      // It did round its inputs: fp32 inputs' products are far from its result.
      EXPECT_GT(off32, 20 * off16) << "shape " << s.n << "x" << s.in << "x" << s.out;
    }
  }
}

// Where the pieces are several and shared by a team: a (1024 × 1024) ·
// (1536 × 1024)ᵀ product, rows cut, and a (512 × 1024) one, columns cut
// (w: 1.6M elements), give the same bits on 1, 2 and 3 threads.
TEST(Bf16Linear, BitsDoNotDependOnTheThreadCountAtRealWidth) {
  SKIP_UNLESS_COMPUTE_AVAILABLE(mezo::ComputePrecision::bf16);
  const std::int64_t in = 1024, out = 1536;
  const auto w = random_f32(out * in, 4, 0.03f), b = random_f32(out, 5, 0.1f);
  for (const std::int64_t n : {1024, 512}) {
    const auto x = random_f32(n * in, 6, 1.0f);
    std::vector<std::vector<float>> ys;
    cpu::Bf16Linear bf16;
    for (int threads : {1, 2, 3}) {
      const int previous = omp_get_max_threads();
      omp_set_num_threads(threads);
      ys.emplace_back(static_cast<std::size_t>(n * out));
      bf16(x.data(), n, in, w.data(), b.data(), out, ys.back().data());
      omp_set_num_threads(previous);
    }
    for (std::size_t t = 1; t < ys.size(); ++t)
      EXPECT_EQ(0, std::memcmp(ys[0].data(), ys[t].data(), ys[0].size() * sizeof(float)))
          << n << " rows: 1 and " << t + 1 << " threads differ";
  }
}

// A CPU without AVX-512, as oneDNN sees one when capped at AVX2: its only bf16
// matmul is the reference code, which Bf16Linear refuses rather than run a
// forward ~100x slower than fp32.
TEST(Bf16Linear, RefusedWhereOneDnnHasOnlyItsReferenceCode) {
  if (dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx2) != dnnl::status::success) {
    GTEST_SKIP() << "oneDNN's ISA was fixed by an earlier test in this process; ctest runs "
                    "this case on its own, where it is not";
  }
  const std::string message =
      mezo_test::error_of([] { cpu::Bf16Linear bf16; }, mezo::ErrorCode::unsupported);
  EXPECT_NE(message.find("bf16 compute"), std::string::npos) << message;
  EXPECT_NE(message.find("Use fp32"), std::string::npos) << message;
}

#else

TEST(Bf16Linear, RefusedWithoutOneDnn) {
  const std::string message =
      mezo_test::error_of([] { cpu::Bf16Linear bf16; }, mezo::ErrorCode::unsupported);
  EXPECT_NE(message.find("without oneDNN"), std::string::npos) << message;
}

#endif

}  // namespace
