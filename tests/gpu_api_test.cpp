// The GPU API where no GPU can run it (this test runs in every build, with
// or without CUDA): making a GpuContext is a clear mezo::Error, never a crash.
#include <gtest/gtest.h>

#include <mezo/gpu.hpp>
#include <mezo/mezo.hpp>
#include <string>

TEST(GpuApi, AContextIsMadeOrRefusedWithAClearReason) {
  try {
    mezo::GpuContext gpu;
    EXPECT_TRUE(mezo::cuda_backend_available());
    EXPECT_GE(gpu.device(), 0);
    EXPECT_EQ(gpu.memory().current_bytes, 0u);  // nothing is allocated before it is used
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::unsupported);
    const std::string why = e.what();
    if (mezo::cuda_backend_available()) {
      EXPECT_NE(why.find("CUDA device"), std::string::npos) << why;
    } else {
      EXPECT_NE(why.find("without its CUDA backend"), std::string::npos) << why;
    }
  }
}

TEST(GpuApi, PassesOverCudaMemoryNeedAContext) {
  // A pointer that is never dereferenced: the check comes first.
  float fake = 0.0f;
  mezo::ParamSet params;
  params.add("w", &fake, 1, mezo::Device::cuda);
  try {
    mezo::perturb_inplace(params, *mezo::gaussian_perturbation(), 1, 1e-3f);
    FAIL() << "expected mezo::Error";
  } catch (const mezo::Error& e) {
    if (mezo::cuda_backend_available()) {
      EXPECT_EQ(e.code(), mezo::ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("ExecutionOptions::gpu"), std::string::npos);
    } else {
      EXPECT_EQ(e.code(), mezo::ErrorCode::unsupported);
    }
  }
}
