// gelu: the exact (erf) GELU of BERT-style encoders.
#include <algorithm>
#include <unsupported/Eigen/SpecialFunctions>

#include "model/ops/eigen_maps.hpp"
#include "model/ops/ops.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

// Eigen's vectorised erf (a rational approximation, a few ulp from std::erf)
// instead of libm's scalar erff, which was a tenth of a forward. Blocks of a
// fixed size: the bits do not depend on the thread count.
void gelu(float* x, std::int64_t count) {
  constexpr float kInvSqrt2 = 0.70710678118654752f;
  constexpr std::int64_t kBlock = 1 << 14;
#pragma omp parallel for schedule(static) if (count > 1 << 16)
  for (std::int64_t begin = 0; begin < count; begin += kBlock) {
    Eigen::Map<Eigen::ArrayXf> v(x + begin, std::min(kBlock, count - begin));
    v = 0.5f * v * (1.0f + (v * kInvSqrt2).erf());
  }
}

}  // namespace model::cpu
MEZO_END_NAMESPACE
