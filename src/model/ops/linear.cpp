// linear: y = x·wᵀ + b, the projections that are nearly all of a forward's work.
#include "model/ops/eigen_maps.hpp"
#include "model/ops/linear_pieces.hpp"
#include "model/ops/ops.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

// The product is cut into pieces that depend on the shape alone, never on the
// number of threads, and each piece is one single-threaded BLAS call
// (linear_pieces.hpp). That is what makes the forward's bits independent of
// num_threads: left to its own threading, OpenBLAS partitions a product per
// thread count and rounds differently at the partition edges (most outputs of
// a forward differed in their last bits between 1 and 2 threads).
//
// OpenBLAS (and Eigen's own product, without OpenBLAS) splits a call across
// omp_get_max_threads() threads unless it runs inside an *active* OpenMP
// region, one of two threads or more. A one-piece product runs in a region of
// one thread, which is not active: there OpenBLAS went back to its own,
// thread-count-dependent split (what broke the guarantee on a real 384-wide
// model whose 3-sentence batch made every projection one piece). So each
// piece first sets its own task's thread count to 1 (LinearPieces::for_each).
void linear(const float* x, std::int64_t n, std::int64_t in, const float* w, const float* b,
            std::int64_t out, float* y) {
  const LinearPieces pieces = linear_pieces(n, out);
  pieces.for_each([&](std::int64_t begin, std::int64_t size) {
    if (pieces.cut_rows) {
      MatrixMap part(y + begin * out, size, out);
      part.noalias() =
          ConstMatrixMap(x + begin * in, size, in) * ConstMatrixMap(w, out, in).transpose();
      if (b != nullptr) part.rowwise() += ConstRowVectorMap(b, out);
    } else {
      StridedMap part(y + begin, n, size, Eigen::OuterStride<>(out));
      part.noalias() =
          ConstMatrixMap(x, n, in) * ConstMatrixMap(w + begin * in, size, in).transpose();
      if (b != nullptr) part.rowwise() += ConstRowVectorMap(b + begin, size);
    }
  });
}

void linear_rows(const float* x, std::int64_t n, std::int64_t in, const float* w, const float* b,
                 const std::int32_t* rows, std::int64_t count, float* y) {
  for (std::int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * in;
    for (std::int64_t j = 0; j < count; ++j) {
      const float* wj = w + static_cast<std::int64_t>(rows[j]) * in;
      float dot = 0.0f;
      for (std::int64_t e = 0; e < in; ++e) dot += xi[e] * wj[e];
      y[i * count + j] = b != nullptr ? dot + b[rows[j]] : dot;
    }
  }
}

void add_scaled(float* y, const float* u, std::int64_t count, float scale) {
#pragma omp parallel for schedule(static) if (count > 1 << 16)
  for (std::int64_t i = 0; i < count; ++i) y[i] += scale * u[i];
}

}  // namespace model::cpu
MEZO_END_NAMESPACE
