// The projections of a forward in the precision its model was loaded with:
// linear() for fp32 (bit for bit what it was before bf16 existed), Bf16Linear
// for bf16. The one place that chooses, for every model family.
#pragma once

#include <cstdint>
#include <memory>

#include "mezo/model/language_model.hpp"
#include "model/ops/bf16_linear.hpp"
#include "model/ops/ops.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

class Projector {
 public:
  // Throws what Bf16Linear's constructor throws when bf16 is unavailable.
  explicit Projector(ComputePrecision precision = ComputePrecision::fp32)
      : bf16_(precision == ComputePrecision::bf16 ? std::make_unique<Bf16Linear>() : nullptr) {}

  ComputePrecision precision() const {
    return bf16_ ? ComputePrecision::bf16 : ComputePrecision::fp32;
  }

  // y (n, out) = x (n, in) · wᵀ + b, as linear().
  void operator()(const float* x, std::int64_t n, std::int64_t in, const float* w, const float* b,
                  std::int64_t out, float* y) {
    if (bf16_) {
      (*bf16_)(x, n, in, w, b, out, y);
    } else {
      linear(x, n, in, w, b, out, y);
    }
  }

 private:
  std::unique_ptr<Bf16Linear> bf16_;  // null: fp32
};

}  // namespace model::cpu
MEZO_END_NAMESPACE
