// Shared by the CUDA test programs (tests/cuda_*_test.cpp): they compile
// wherever nvcc is and skip, saying why, where no GPU can run them.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <string>

namespace mezo_test {

// Empty when a CUDA device is usable; otherwise CUDA's reason.
inline std::string gpu_unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky error for the next caller
    return std::string("no usable CUDA device: ") + cudaGetErrorString(status);
  }
  if (count == 0) return "no CUDA device on this machine";
  return "";
}

}  // namespace mezo_test

// Skips the calling test, with the reason, unless a GPU is usable.
#define REQUIRE_GPU()                                                              \
  do {                                                                             \
    const std::string reason = ::mezo_test::gpu_unavailable_reason();              \
    if (!reason.empty()) GTEST_SKIP() << reason << "; CUDA test not run";          \
  } while (0)
