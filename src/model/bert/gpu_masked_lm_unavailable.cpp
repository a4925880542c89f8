// GpuMaskedLM in a libmezo built without its CUDA backend: the type exists so
// that code written for both kinds of build compiles, but it cannot be made.
// (A GpuContext cannot be made either, so no caller reaches past the constructor.)
#include "mezo/error.hpp"
#include "mezo/model/gpu_masked_lm.hpp"

MEZO_BEGIN_NAMESPACE

struct GpuMaskedLM::Impl {};

GpuMaskedLM::GpuMaskedLM(const MaskedLM&, GpuContext&, const GpuMaskedLMOptions&) {
  throw Error(ErrorCode::unsupported,
              "GpuMaskedLM: this libmezo was built without its CUDA backend (configure with "
              "-DMEZO_ENABLE_CUDA=ON where the CUDA toolkit is installed)");
}
GpuMaskedLM::~GpuMaskedLM() = default;
GpuMaskedLM::GpuMaskedLM(GpuMaskedLM&&) noexcept = default;
GpuMaskedLM& GpuMaskedLM::operator=(GpuMaskedLM&&) noexcept = default;

namespace {
[[noreturn]] void unreachable() {
  throw Error(ErrorCode::unsupported, "GpuMaskedLM: built without CUDA");
}
}  // namespace

const TransformerConfig& GpuMaskedLM::config() const { unreachable(); }
const ParamSet& GpuMaskedLM::params() const { unreachable(); }
std::shared_ptr<DeferredPerturbation> GpuMaskedLM::perturbation() const { unreachable(); }
void GpuMaskedLM::mlm_logits(const TokenBatch&, std::span<const MaskQuery>,
                             std::span<const std::int32_t>, std::span<float>) {
  unreachable();
}
void GpuMaskedLM::download(MaskedLM&) const { unreachable(); }

MEZO_END_NAMESPACE
