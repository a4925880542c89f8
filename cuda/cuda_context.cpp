// mezo::cuda::Context (see cuda_context.hpp). Host code only, compiled by the
// host compiler: fmt is unusable under nvcc here, so messages are built with
// std::string throughout the backend.
#include "cuda_context.hpp"

#include <string>
#include <utility>

#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace cuda {
namespace {

std::string describe(cudaError_t status) {
  return std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
}

}  // namespace

void check_cuda(cudaError_t status, const char* call) {
  if (status == cudaSuccess) return;
  throw Error(ErrorCode::internal, std::string("CUDA backend: ") + call + " failed: " + describe(status));
}

void check_cublas(cublasStatus_t status, const char* call) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw Error(ErrorCode::internal, std::string("CUDA backend: ") + call + " failed: " +
                                       cublasGetStatusName(status) + ": " +
                                       cublasGetStatusString(status));
}

Context::Context(const ContextOptions& options) : device_(options.device), allow_tf32_(options.allow_tf32) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // it is also recorded as the last error: clear it
    throw Error(ErrorCode::unsupported,
                "mezo::cuda::Context: no usable CUDA device (cudaGetDeviceCount failed: " +
                    describe(status) + ")");
  }
  if (count == 0) {
    throw Error(ErrorCode::unsupported, "mezo::cuda::Context: no CUDA device on this machine");
  }
  if (options.device < 0 || options.device >= count) {
    throw Error(ErrorCode::invalid_argument,
                "mezo::cuda::Context: CUDA device " + std::to_string(options.device) +
                    " requested, but this machine has devices 0 to " + std::to_string(count - 1));
  }
  // Everything created so far is released if a later call throws.
  try {
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    check_cublas(cublasCreate(&cublas_), "cublasCreate");
    check_cublas(cublasSetStream(cublas_, stream_), "cublasSetStream");
    // Plain fp32 unless asked: CUBLAS_DEFAULT_MATH never rounds fp32 inputs to
    // TF32, so the GEMMs are comparable with the CPU's fp32 to summation-order
    // error alone (tests rely on it).
    check_cublas(cublasSetMathMode(cublas_, allow_tf32_ ? CUBLAS_TF32_TENSOR_OP_MATH
                                                        : CUBLAS_DEFAULT_MATH),
                 "cublasSetMathMode");
  } catch (...) {
    release();
    throw;
  }
}

Context::~Context() { release(); }

Context::Context(Context&& other) noexcept
    : device_(std::exchange(other.device_, -1)),
      allow_tf32_(other.allow_tf32_),
      stream_(std::exchange(other.stream_, nullptr)),
      cublas_(std::exchange(other.cublas_, nullptr)),
      workspace_(std::exchange(other.workspace_, nullptr)),
      workspace_bytes_(std::exchange(other.workspace_bytes_, 0)),
      allocations_(std::exchange(other.allocations_, {})),
      current_bytes_(std::exchange(other.current_bytes_, 0)),
      peak_bytes_(std::exchange(other.peak_bytes_, 0)) {}

Context& Context::operator=(Context&& other) noexcept {
  if (this != &other) {
    release();
    device_ = std::exchange(other.device_, -1);
    allow_tf32_ = other.allow_tf32_;
    stream_ = std::exchange(other.stream_, nullptr);
    cublas_ = std::exchange(other.cublas_, nullptr);
    workspace_ = std::exchange(other.workspace_, nullptr);
    workspace_bytes_ = std::exchange(other.workspace_bytes_, 0);
    allocations_ = std::exchange(other.allocations_, {});
    current_bytes_ = std::exchange(other.current_bytes_, 0);
    peak_bytes_ = std::exchange(other.peak_bytes_, 0);
  }
  return *this;
}

// A destructor cannot report: errors while tearing down are dropped (the
// stream's work is finished first, so nothing in flight loses its memory).
void Context::release() noexcept {
  if (stream_ != nullptr) (void)cudaStreamSynchronize(stream_);
  // The workspace is among the allocations; buffers still alive (a
  // DeviceBuffer outliving its Context is a bug) are freed here too.
  for (const auto& allocation : allocations_) (void)cudaFree(allocation.first);
  allocations_.clear();
  current_bytes_ = 0;
  if (cublas_ != nullptr) (void)cublasDestroy(cublas_);
  if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
  workspace_ = nullptr;
  workspace_bytes_ = 0;
  cublas_ = nullptr;
  stream_ = nullptr;
}

void Context::require_valid() const {
  if (stream_ == nullptr) {
    throw Error(ErrorCode::invalid_argument, "mezo::cuda::Context used after it was moved from");
  }
}

cudaStream_t Context::stream() const {
  require_valid();
  return stream_;
}

cublasHandle_t Context::cublas() const {
  require_valid();
  return cublas_;
}

int Context::device() const {
  require_valid();
  return device_;
}

void Context::make_current() const {
  require_valid();
  check_cuda(cudaSetDevice(device_), "cudaSetDevice");
}

void* Context::workspace(std::size_t bytes) {
  require_valid();
  if (bytes <= workspace_bytes_ && workspace_ != nullptr) return workspace_;
  make_current();
  // Work already enqueued may still read the old block.
  check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (growing the workspace)");
  if (workspace_ != nullptr) {
    deallocate(workspace_);
    workspace_ = nullptr;
    workspace_bytes_ = 0;
  }
  // Round up to 1 MiB so that slowly growing requests do not reallocate each time.
  constexpr std::size_t kGranule = std::size_t{1} << 20;
  const std::size_t size = bytes == 0 ? kGranule : (bytes + kGranule - 1) / kGranule * kGranule;
  workspace_ = allocate(size, "the workspace");
  workspace_bytes_ = size;
  return workspace_;
}

void* Context::allocate(std::size_t bytes, const char* what) {
  require_valid();
  make_current();
  void* pointer = nullptr;
  const cudaError_t status = cudaMalloc(&pointer, bytes == 0 ? 1 : bytes);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    throw Error(ErrorCode::internal,
                std::string("CUDA backend: cudaMalloc of ") + std::to_string(bytes) +
                    " bytes for " + what + " failed (" + describe(status) + "); libmezo holds " +
                    std::to_string(current_bytes_) + " bytes on this device");
  }
  allocations_.emplace(pointer, bytes);
  current_bytes_ += bytes;
  if (current_bytes_ > peak_bytes_) peak_bytes_ = current_bytes_;
  return pointer;
}

void Context::deallocate(void* pointer) noexcept {
  const auto it = allocations_.find(pointer);
  if (pointer == nullptr || it == allocations_.end()) return;
  // Work enqueued earlier may still use the memory.
  (void)cudaStreamSynchronize(stream_);
  (void)cudaFree(pointer);
  current_bytes_ -= it->second;
  allocations_.erase(it);
}

void Context::synchronize() const {
  require_valid();
  check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

}  // namespace cuda
MEZO_END_NAMESPACE
