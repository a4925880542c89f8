#include "model/cpu_layers.hpp"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <unsupported/Eigen/SpecialFunctions>

MEZO_BEGIN_NAMESPACE
namespace model::cpu {
namespace {
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;
using StridedMap = Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>>;
using ConstStridedMap = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;
using ConstRowVectorMap = Eigen::Map<const Eigen::RowVectorXf>;
}  // namespace

// The product is cut into pieces that depend on the shape alone, never on the
// number of threads, and each piece is one single-threaded BLAS call (OpenBLAS
// runs single-threaded inside an OpenMP parallel region). So every output
// element comes from the same call on the same operands whatever the team
// size, and the forward's bits do not depend on num_threads. Left to its own
// threading, OpenBLAS partitions the product per thread count and rounds
// differently at the partition edges: most outputs of a forward differed in
// their last bits between 1 and 2 threads.
//
// The larger of the two output dimensions is cut (rows of x, or rows of w),
// so the operand each call re-packs is the smaller one; pieces of at least
// kMinPiece keep that re-packing a few percent of the arithmetic.
void linear(const float* x, std::int64_t n, std::int64_t in, const float* w, const float* b,
            std::int64_t out, float* y) {
  constexpr std::int64_t kMinPiece = 256;
  constexpr std::int64_t kMaxPieces = 8;
  constexpr std::int64_t kAlign = 16;
  const bool cut_rows = n >= out;
  const std::int64_t length = cut_rows ? n : out;
  const std::int64_t pieces = std::clamp<std::int64_t>(length / kMinPiece, 1, kMaxPieces);
  const std::int64_t piece = ((length + pieces - 1) / pieces + kAlign - 1) & ~(kAlign - 1);
#pragma omp parallel for schedule(dynamic, 1) if (pieces > 1)
  for (std::int64_t begin = 0; begin < length; begin += piece) {
    const std::int64_t size = std::min(piece, length - begin);
    if (cut_rows) {
      MatrixMap part(y + begin * out, size, out);
      part.noalias() = ConstMatrixMap(x + begin * in, size, in) * ConstMatrixMap(w, out, in).transpose();
      if (b != nullptr) part.rowwise() += ConstRowVectorMap(b, out);
    } else {
      StridedMap part(y + begin, n, size, Eigen::OuterStride<>(out));
      part.noalias() =
          ConstMatrixMap(x, n, in) * ConstMatrixMap(w + begin * in, size, in).transpose();
      if (b != nullptr) part.rowwise() += ConstRowVectorMap(b + begin, size);
    }
  }
}

void add_layer_norm(float* x, const float* residual, std::int64_t n, std::int64_t h, const float* g,
                    const float* b, float eps) {
#pragma omp parallel for schedule(static) if (n * h > 1 << 15)
  for (std::int64_t r = 0; r < n; ++r) {
    float* row = x + r * h;
    if (residual != nullptr) {
      const float* res = residual + r * h;
      for (std::int64_t j = 0; j < h; ++j) row[j] += res[j];
    }
    float mean = 0.0f;
    for (std::int64_t j = 0; j < h; ++j) mean += row[j];
    mean /= static_cast<float>(h);
    float var = 0.0f;
    for (std::int64_t j = 0; j < h; ++j) var += (row[j] - mean) * (row[j] - mean);
    var /= static_cast<float>(h);
    const float inv_std = 1.0f / std::sqrt(var + eps);
    for (std::int64_t j = 0; j < h; ++j) row[j] = (row[j] - mean) * inv_std * g[j] + b[j];
  }
}

void gelu(float* x, std::int64_t count) {
  constexpr float kInvSqrt2 = 0.70710678118654752f;
  // Eigen's vectorised erf (a rational approximation, a few ulp from
  // std::erf) instead of libm's scalar erff, which was a tenth of a forward.
  constexpr std::int64_t kBlock = 1 << 14;
#pragma omp parallel for schedule(static) if (count > 1 << 16)
  for (std::int64_t begin = 0; begin < count; begin += kBlock) {
    Eigen::Map<Eigen::ArrayXf> v(x + begin, std::min(kBlock, count - begin));
    v = 0.5f * v * (1.0f + (v * kInvSqrt2).erf());
  }
}

void attention(const float* q, const float* k, const float* v, std::int64_t rows, std::int64_t seq,
               std::int64_t heads, std::int64_t head_dim, const std::int32_t* lengths,
               float* context, float* scratch, int threads, const float* prefix_k,
               const float* prefix_v, std::int64_t prefix) {
  const std::int64_t width = heads * head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
#pragma omp parallel for schedule(static) num_threads(threads) collapse(2)
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t h = 0; h < heads; ++h) {
      const std::int64_t keys = lengths[r];
      const std::int64_t total = prefix + keys;
      const std::int64_t base = r * seq * width + h * head_dim;
      MatrixMap scores(
          scratch + static_cast<std::int64_t>(omp_get_thread_num()) * seq * (seq + prefix), seq,
          total);
      const ConstStridedMap query(q + base, seq, head_dim, Eigen::OuterStride<>(width));
      const ConstStridedMap key(k + base, keys, head_dim, Eigen::OuterStride<>(width));
      // Padding keys get probability 0 (the reference adds the most negative
      // float, whose exp underflows to 0), so they are simply left out.
      if (prefix == 0) {
        scores.noalias() = query * key.transpose();
      } else {
        scores.leftCols(prefix).noalias() =
            query *
            ConstStridedMap(prefix_k + h * head_dim, prefix, head_dim, Eigen::OuterStride<>(width))
                .transpose();
        scores.rightCols(keys).noalias() = query * key.transpose();
      }
      for (std::int64_t i = 0; i < seq; ++i) {
        float* s = scores.data() + i * total;
        float max_score = -INFINITY;
        for (std::int64_t j = 0; j < total; ++j) {
          s[j] *= scale;
          max_score = std::max(max_score, s[j]);
        }
        float sum = 0.0f;
        for (std::int64_t j = 0; j < total; ++j) {
          s[j] = std::exp(s[j] - max_score);
          sum += s[j];
        }
        const float inv_sum = 1.0f / sum;
        for (std::int64_t j = 0; j < total; ++j) s[j] *= inv_sum;
      }
      StridedMap out(context + base, seq, head_dim, Eigen::OuterStride<>(width));
      const ConstStridedMap value(v + base, keys, head_dim, Eigen::OuterStride<>(width));
      if (prefix == 0) {
        out.noalias() = scores * value;
      } else {
        out.noalias() =
            scores.leftCols(prefix) *
            ConstStridedMap(prefix_v + h * head_dim, prefix, head_dim, Eigen::OuterStride<>(width));
        out.noalias() += scores.rightCols(keys) * value;
      }
    }
  }
}

void add_scaled(float* y, const float* u, std::int64_t count, float scale) {
#pragma omp parallel for schedule(static) if (count > 1 << 16)
  for (std::int64_t i = 0; i < count; ++i) y[i] += scale * u[i];
}

}  // namespace model::cpu
MEZO_END_NAMESPACE
