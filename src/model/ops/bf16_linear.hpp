// linear() with bf16 inputs and fp32 accumulation, for
// ComputePrecision::bf16: x and w rounded to bf16 (nearest, ties to even,
// mezo/bf16.hpp), then the same pieces as linear() (linear_pieces.hpp), each
// one single-threaded oneDNN bf16 matmul with an fp32 result.
//
// The weights are the fp32 masters, which a MeZO step changes before every
// forward, so each call rounds w anew (a read of 4 and a write of 2 bytes per
// weight, a few percent of the products' time); nothing is cached between
// calls but the bf16 buffers and the oneDNN primitives for each shape.
#pragma once

#include <cstdint>
#include <memory>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

class Bf16Linear {
 public:
  // Throws mezo::Error (unsupported) when libmezo was built without oneDNN,
  // or when oneDNN has no bf16 matmul for this CPU short of its slow
  // reference code (it needs AVX-512 at least; AVX512_BF16 or AMX to be fast).
  Bf16Linear();
  ~Bf16Linear();
  Bf16Linear(Bf16Linear&&) noexcept;
  Bf16Linear& operator=(Bf16Linear&&) noexcept;

  // y (n, out) = bf16(x) (n, in) · bf16(w)ᵀ (w is (out, in)) + b; b may be null.
  void operator()(const float* x, std::int64_t n, std::int64_t in, const float* w, const float* b,
                  std::int64_t out, float* y);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace model::cpu
MEZO_END_NAMESPACE
