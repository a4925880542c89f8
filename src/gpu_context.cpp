// mezo::GpuContext (mezo/gpu.hpp): the public face of cuda::Context. In a
// build without the CUDA backend it exists but cannot be constructed, so code
// written for both kinds of build compiles in either.
#include "mezo/gpu.hpp"

#include "mezo/error.hpp"

#if defined(MEZO_WITH_CUDA)
#include "cuda_context.hpp"
#else
MEZO_BEGIN_NAMESPACE
namespace cuda {
class Context {};  // never created without CUDA
}  // namespace cuda
MEZO_END_NAMESPACE
#endif

MEZO_BEGIN_NAMESPACE

GpuContext::GpuContext(const GpuOptions& options) {
#if defined(MEZO_WITH_CUDA)
  context_ = std::make_unique<cuda::Context>(cuda::ContextOptions{options.device, options.allow_tf32});
#else
  (void)options;
  throw Error(ErrorCode::unsupported,
              "mezo::GpuContext: this libmezo was built without its CUDA backend (configure with "
              "-DMEZO_ENABLE_CUDA=ON where the CUDA toolkit is installed)");
#endif
}

GpuContext::~GpuContext() = default;
GpuContext::GpuContext(GpuContext&&) noexcept = default;
GpuContext& GpuContext::operator=(GpuContext&&) noexcept = default;

cuda::Context& GpuContext::native() const {
  if (!context_) {
    throw Error(ErrorCode::invalid_argument, "mezo::GpuContext used after it was moved from");
  }
  return *context_;
}

#if defined(MEZO_WITH_CUDA)
int GpuContext::device() const { return native().device(); }
void GpuContext::synchronize() const { native().synchronize(); }
GpuMemoryStats GpuContext::memory() const {
  const cuda::Context& ctx = native();
  return {ctx.current_bytes(), ctx.peak_bytes()};
}
void GpuContext::reset_peak() { native().reset_peak(); }
#else
// Unreachable: no GpuContext can be constructed without CUDA.
int GpuContext::device() const { return -1; }
void GpuContext::synchronize() const {}
GpuMemoryStats GpuContext::memory() const { return {}; }
void GpuContext::reset_peak() {}
#endif

MEZO_END_NAMESPACE
