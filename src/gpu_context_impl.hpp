// What a GpuContext (mezo/gpu.hpp) holds: the CUDA backend's context. Only
// the classes GpuContext names as friends (CounterPerturbation, GpuMaskedLM)
// may use GpuContext::Impl; only builds with the CUDA backend include this.
#pragma once

#include "cuda_context.hpp"
#include "mezo/error.hpp"
#include "mezo/gpu.hpp"

MEZO_BEGIN_NAMESPACE

struct GpuContext::Impl {
  cuda::Context context;

  // `gpu`'s CUDA context. Throws mezo::Error(invalid_argument) for a
  // moved-from GpuContext rather than dereference nothing.
  static cuda::Context& of(const GpuContext& gpu) {
    if (!gpu.impl_) {
      throw Error(ErrorCode::invalid_argument, "mezo::GpuContext used after it was moved from");
    }
    return gpu.impl_->context;
  }
};

MEZO_END_NAMESPACE
