// How linear() cuts y (n, out) = x (n, in) · wᵀ into pieces, one
// single-threaded product each: shared by the fp32 products (linear.cpp, which
// says why) and the bf16 ones (linear_bf16.cpp), so both keep their bits on
// any thread count the same way.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

struct LinearPieces {
  bool cut_rows = true;     // pieces are rows of x (and y); else rows of w (columns of y)
  std::int64_t length = 0;  // n when cutting rows, out otherwise
  std::int64_t piece = 0;   // elements of `length` per piece; the last may be shorter
  int team = 1;             // threads that share the pieces

  // Calls product(begin, size) for every piece, on up to `team` threads. Each
  // call runs with its task's OpenMP thread count set to 1, so a BLAS or
  // oneDNN call inside it runs on one thread; that setting ends with the
  // region and never reaches the caller's.
  template <typename Product>
  void for_each(Product&& product) const {
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
    for (std::int64_t begin = 0; begin < length; begin += piece) {
      omp_set_num_threads(1);
      product(begin, std::min(piece, length - begin));
    }
  }
};

// The pieces depend on the shape alone, never on the thread count. The larger
// output dimension is cut, so the operand each call re-packs is the smaller
// one; pieces of at least kMinPiece keep that re-packing a few percent of the
// arithmetic; sizes are multiples of kAlign.
inline LinearPieces linear_pieces(std::int64_t n, std::int64_t out) {
  constexpr std::int64_t kMinPiece = 256;
  constexpr std::int64_t kMaxPieces = 8;
  constexpr std::int64_t kAlign = 16;
  LinearPieces p;
  p.cut_rows = n >= out;
  p.length = p.cut_rows ? n : out;
  const std::int64_t pieces = std::clamp<std::int64_t>(p.length / kMinPiece, 1, kMaxPieces);
  p.piece = ((p.length + pieces - 1) / pieces + kAlign - 1) & ~(kAlign - 1);
  p.team = static_cast<int>(std::min<std::int64_t>(pieces, omp_get_max_threads()));
  return p;
}

}  // namespace model::cpu
MEZO_END_NAMESPACE
