// mezo::GpuContext (mezo/gpu.hpp): the public face of cuda::Context. In a
// build without the CUDA backend it exists but cannot be constructed, so code
// written for both kinds of build compiles in either.
#include "mezo/gpu.hpp"

#include "mezo/error.hpp"

#if defined(MEZO_WITH_CUDA)
#include "gpu_context_impl.hpp"
#else
MEZO_BEGIN_NAMESPACE
struct GpuContext::Impl {};  // never created without CUDA
MEZO_END_NAMESPACE
#endif

MEZO_BEGIN_NAMESPACE

GpuContext::GpuContext(const GpuOptions& options) {
#if defined(MEZO_WITH_CUDA)
  impl_ = std::make_unique<Impl>(
      Impl{cuda::Context(cuda::ContextOptions{options.device, options.allow_tf32})});
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

#if defined(MEZO_WITH_CUDA)
int GpuContext::device() const { return Impl::of(*this).device(); }
void GpuContext::synchronize() const { Impl::of(*this).synchronize(); }
GpuMemoryStats GpuContext::memory() const {
  const cuda::Context& ctx = Impl::of(*this);
  return {ctx.current_bytes(), ctx.peak_bytes()};
}
void GpuContext::reset_peak() { Impl::of(*this).reset_peak(); }
#else
// Unreachable: no GpuContext can be constructed without CUDA.
int GpuContext::device() const { return -1; }
void GpuContext::synchronize() const {}
GpuMemoryStats GpuContext::memory() const { return {}; }
void GpuContext::reset_peak() {}
#endif

MEZO_END_NAMESPACE
