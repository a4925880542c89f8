// Bf16Linear in a libmezo built without oneDNN: ComputePrecision::bf16 is
// refused when a model is loaded with it.
#include "mezo/error.hpp"
#include "model/ops/bf16_linear.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

struct Bf16Linear::Impl {};

Bf16Linear::Bf16Linear() {
  throw Error(ErrorCode::unsupported,
              "bf16 compute: this libmezo was built without oneDNN (Debian: libdnnl-dev; "
              "MEZO_USE_ONEDNN); use fp32");
}

Bf16Linear::~Bf16Linear() = default;
Bf16Linear::Bf16Linear(Bf16Linear&&) noexcept = default;
Bf16Linear& Bf16Linear::operator=(Bf16Linear&&) noexcept = default;

void Bf16Linear::operator()(const float*, std::int64_t, std::int64_t, const float*, const float*,
                            std::int64_t, float*) {}

}  // namespace model::cpu
MEZO_END_NAMESPACE
