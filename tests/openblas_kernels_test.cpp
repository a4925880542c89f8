// The programs' choice of OpenBLAS kernels (src/executable/openblas_kernels.cpp):
// on a CPU with AVX-512, OpenBLAS runs the kernels named in OPENBLAS_CORETYPE
// (ours, or the user's when set), not the generic ones it falls back to on CPUs
// newer than itself (Debian 12's 0.3.21 on Emerald Rapids: 5x slower sgemm).
#include <gtest/gtest.h>
#include <strings.h>

#include <cstdlib>
#include <string>

// OpenBLAS's own report of the kernels it loaded (tests/CMakeLists.txt builds
// this test only with OpenBLAS, and links it).
extern "C" char* openblas_get_corename();

namespace {

bool cpu_has_avx512() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

constexpr const char* kNoAvx512 = "this CPU has no AVX-512: OpenBLAS keeps its own choice";

TEST(OpenBlasKernels, OpenBlasRunsTheNamedKernels) {
  if (!cpu_has_avx512()) GTEST_SKIP() << kNoAvx512;
  const char* named = std::getenv("OPENBLAS_CORETYPE");
  ASSERT_NE(named, nullptr) << "the program did not name OpenBLAS's kernels";
  EXPECT_EQ(strcasecmp(openblas_get_corename(), named), 0)
      << "OPENBLAS_CORETYPE=" << named << " but OpenBLAS runs " << openblas_get_corename();
}

TEST(OpenBlasKernels, AvxFiveTwelveKernelsUnlessTheUserChose) {
  if (!cpu_has_avx512()) GTEST_SKIP() << kNoAvx512;
  // ctest runs this program a second time with OPENBLAS_CORETYPE=Haswell and
  // MEZO_EXPECT_OPENBLAS_KERNELS=Haswell: the user's choice must be kept.
  const char* expected = std::getenv("MEZO_EXPECT_OPENBLAS_KERNELS");
  const std::string kernels = openblas_get_corename();
  if (expected != nullptr) {
    EXPECT_EQ(strcasecmp(kernels.c_str(), expected), 0) << "OpenBLAS runs " << kernels;
  } else {
    const bool bf16 = __builtin_cpu_supports("avx512bf16");
    EXPECT_EQ(strcasecmp(kernels.c_str(), bf16 ? "Cooperlake" : "SkylakeX"), 0)
        << "OpenBLAS runs " << kernels;
  }
}

}  // namespace
