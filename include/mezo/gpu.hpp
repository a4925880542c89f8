// mezo::GpuContext: the handle a program passes to everything that runs on a
// GPU. It owns one CUDA stream, a cuBLAS handle bound to it, a device
// workspace and the accounting of every device byte libmezo allocates through
// it; nothing in libmezo keeps GPU state anywhere else (no globals, no
// thread-locals). No CUDA type appears here, so a program that includes it
// needs no CUDA headers.
#pragma once

#include <cstdint>
#include <memory>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

struct GpuOptions {
  int device = 0;           // CUDA device ordinal
  bool allow_tf32 = false;  // let fp32 GEMMs round their inputs to TF32 (tensor cores)
};

// Device bytes libmezo holds through one context (model weights, activations,
// workspace), not what other code allocates.
struct GpuMemoryStats {
  std::uint64_t current_bytes = 0;
  std::uint64_t peak_bytes = 0;  // high-water mark since creation or reset_peak()
};

class MEZO_API GpuContext {
 public:
  // Throws mezo::Error: unsupported when libmezo was built without CUDA or
  // the machine has no usable CUDA device (the message says which and why),
  // invalid_argument for a device ordinal the machine lacks.
  explicit GpuContext(const GpuOptions& options = {});
  ~GpuContext();
  GpuContext(GpuContext&&) noexcept;
  GpuContext& operator=(GpuContext&&) noexcept;
  GpuContext(const GpuContext&) = delete;
  GpuContext& operator=(const GpuContext&) = delete;

  int device() const;
  // Waits for all work enqueued on the context; asynchronous CUDA errors
  // surface here as mezo::Error.
  void synchronize() const;

  GpuMemoryStats memory() const;
  void reset_peak();  // peak_bytes = current_bytes

 private:
  // The CUDA backend's state (src/gpu_context_impl.hpp). The public classes
  // whose work runs on a GpuContext reach it from their own code.
  struct Impl;
  std::unique_ptr<Impl> impl_;
  friend class CounterPerturbation;
  friend class GpuMaskedLM;
};

MEZO_END_NAMESPACE
