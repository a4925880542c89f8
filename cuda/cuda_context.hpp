// mezo::cuda::Context: the one place the CUDA backend keeps its state. It owns
// a stream, a cuBLAS handle bound to that stream and a growable device
// workspace; every kernel and GEMM of the backend runs on a Context passed to
// it explicitly (no globals, no thread-locals, no default stream).
//
// Private to libmezo (cuda/ is never installed): CUDA and cuBLAS types appear
// here freely. Compiled by the host compiler (cuda_context.cpp), so messages
// may use std::string; nothing here needs nvcc.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace cuda {

// Throws mezo::Error(internal) naming `call` and CUDA's name and description
// of `status` ("cudaMalloc failed: cudaErrorMemoryAllocation: out of memory")
// unless status is cudaSuccess. Never prints, exits or aborts.
void check_cuda(cudaError_t status, const char* call);

// The same for cuBLAS statuses ("cublasSgemm failed: CUBLAS_STATUS_...: ...").
void check_cublas(cublasStatus_t status, const char* call);

struct ContextOptions {
  int device = 0;           // CUDA device ordinal
  bool allow_tf32 = false;  // let cuBLAS round fp32 GEMM inputs to TF32 (tensor cores)
};

class Context {
 public:
  // Makes `options.device` current on the calling thread, creates a
  // non-blocking stream and a cuBLAS handle bound to it. Throws mezo::Error:
  // unsupported when the machine has no usable CUDA device (the message gives
  // CUDA's reason), invalid_argument for a device ordinal it does not have,
  // internal when a CUDA or cuBLAS call fails.
  explicit Context(const ContextOptions& options = {});
  ~Context();

  Context(Context&& other) noexcept;
  Context& operator=(Context&& other) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // The accessors throw mezo::Error(invalid_argument) on a moved-from Context
  // rather than hand out a null stream (which CUDA reads as the legacy default stream).
  cudaStream_t stream() const;
  cublasHandle_t cublas() const;
  int device() const;
  bool tf32_allowed() const { return allow_tf32_; }

  // Makes this context's device current on the calling thread. Every backend
  // entry point calls it before launching work.
  void make_current() const;

  // At least `bytes` of device memory, 256-byte aligned, private to this
  // context. Growing waits for the stream and frees the old block, so a
  // pointer from an earlier call is invalid after a call that asks for more;
  // its contents are not kept. Work enqueued on stream() may use it freely.
  void* workspace(std::size_t bytes);
  std::size_t workspace_bytes() const { return workspace_bytes_; }

  // Waits for everything enqueued on the stream; asynchronous kernel errors
  // surface here as mezo::Error.
  void synchronize() const;

  // Device memory counted against this context (the workspace is too), so
  // that memory() is the backend's own high-water mark. `what` names the
  // allocation in the out-of-memory error. deallocate waits for the stream
  // first; it accepts null and ignores pointers it did not hand out.
  void* allocate(std::size_t bytes, const char* what);
  void deallocate(void* pointer) noexcept;
  std::uint64_t current_bytes() const { return current_bytes_; }
  std::uint64_t peak_bytes() const { return peak_bytes_; }
  void reset_peak() { peak_bytes_ = current_bytes_; }

 private:
  void release() noexcept;
  void require_valid() const;

  int device_ = -1;
  bool allow_tf32_ = false;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  void* workspace_ = nullptr;
  std::size_t workspace_bytes_ = 0;
  std::unordered_map<void*, std::size_t> allocations_;
  std::uint64_t current_bytes_ = 0;
  std::uint64_t peak_bytes_ = 0;
};

// One counted device allocation, freed on destruction (RAII over
// Context::allocate). Holds a pointer to the Context, which must outlive it.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(Context& ctx, std::size_t bytes, const char* what)
      : ctx_(&ctx), data_(ctx.allocate(bytes, what)), bytes_(bytes) {}
  ~DeviceBuffer() {
    if (ctx_ != nullptr) ctx_->deallocate(data_);
  }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : ctx_(other.ctx_), data_(other.data_), bytes_(other.bytes_) {
    other.ctx_ = nullptr;
    other.data_ = nullptr;
    other.bytes_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      if (ctx_ != nullptr) ctx_->deallocate(data_);
      ctx_ = other.ctx_;
      data_ = other.data_;
      bytes_ = other.bytes_;
      other.ctx_ = nullptr;
      other.data_ = nullptr;
      other.bytes_ = 0;
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* data() const { return data_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  std::size_t bytes() const { return bytes_; }

 private:
  Context* ctx_ = nullptr;
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace cuda
MEZO_END_NAMESPACE
