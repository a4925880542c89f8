// attention: softmax(q·kᵀ/√d)·v over one padded batch, for encoders
// (bidirectional) and decoders (causal), with grouped-query heads and an
// optional prefix-tuning block.
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "model/ops/eigen_maps.hpp"
#include "model/ops/ops.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

// Each (row, head) pair is one task done wholly by one thread, with its sums
// in a fixed order, so the bits do not depend on the thread count.
void attention(const AttentionShape& shape, const float* q, const float* k, const float* v,
               const std::int32_t* lengths, float* context, float* scratch, int threads,
               const float* prefix_k, const float* prefix_v) {
  const std::int64_t seq = shape.seq, head_dim = shape.head_dim, prefix = shape.prefix;
  const std::int64_t width = shape.heads * head_dim;        // a query / context row
  const std::int64_t kv_width = shape.kv_heads * head_dim;  // a key / value row
  const std::int64_t group = shape.heads / shape.kv_heads;  // query heads per key/value head
  const float scale =
      shape.scale > 0.0f ? shape.scale : 1.0f / std::sqrt(static_cast<float>(head_dim));
#pragma omp parallel for schedule(static) num_threads(threads) collapse(2)
  for (std::int64_t r = 0; r < shape.rows; ++r) {
    for (std::int64_t h = 0; h < shape.heads; ++h) {
      const std::int64_t keys = lengths[r];
      const std::int64_t total = prefix + keys;
      // Causal: a padding position's query is never used; it gets zeros
      // (and in the packed layout is not stored at all).
      const bool packed = shape.row_offsets != nullptr;
      const std::int64_t queries = shape.causal || packed ? keys : seq;
      const std::int64_t first = packed ? shape.row_offsets[r] : r * seq;  // row r's token 0
      const std::int64_t q_base = first * width + h * head_dim;
      const std::int64_t kv_offset = (h / group) * head_dim;
      const std::int64_t kv_base = first * kv_width + kv_offset;
      MatrixMap scores(
          scratch + static_cast<std::int64_t>(omp_get_thread_num()) * seq * (seq + prefix), queries,
          total);
      const ConstStridedMap query(q + q_base, queries, head_dim, Eigen::OuterStride<>(width));
      const ConstStridedMap key(k + kv_base, keys, head_dim, Eigen::OuterStride<>(kv_width));
      // Padding keys get probability 0 (the reference adds the most negative
      // float, whose exp underflows to 0), so they are simply left out.
      if (prefix == 0) {
        scores.noalias() = query * key.transpose();
      } else {
        scores.leftCols(prefix).noalias() =
            query *
            ConstStridedMap(prefix_k + kv_offset, prefix, head_dim, Eigen::OuterStride<>(kv_width))
                .transpose();
        scores.rightCols(keys).noalias() = query * key.transpose();
      }
      for (std::int64_t i = 0; i < queries; ++i) {
        float* s = scores.data() + i * total;
        // Causal: query i sees the prefix and keys 0..i; the later ones get
        // probability 0, as under the reference's mask.
        const std::int64_t visible = shape.causal ? prefix + i + 1 : total;
        // A sliding window also hides the keys before its start.
        const std::int64_t from = shape.causal && shape.window > 0
                                      ? std::max<std::int64_t>(0, visible - shape.window)
                                      : 0;
        float max_score = -INFINITY;
        for (std::int64_t j = from; j < visible; ++j) {
          s[j] *= scale;
          max_score = std::max(max_score, s[j]);
        }
        float sum = 0.0f;
        for (std::int64_t j = from; j < visible; ++j) {
          s[j] = std::exp(s[j] - max_score);
          sum += s[j];
        }
        const float inv_sum = 1.0f / sum;
        for (std::int64_t j = from; j < visible; ++j) s[j] *= inv_sum;
        std::fill(s, s + from, 0.0f);
        std::fill(s + visible, s + total, 0.0f);
      }
      const std::int64_t stored = packed ? keys : seq;
      StridedMap out(context + q_base, stored, head_dim, Eigen::OuterStride<>(width));
      const ConstStridedMap value(v + kv_base, keys, head_dim, Eigen::OuterStride<>(kv_width));
      auto used = out.topRows(queries);
      if (prefix == 0) {
        used.noalias() = scores * value;
      } else {
        used.noalias() =
            scores.leftCols(prefix) *
            ConstStridedMap(prefix_v + kv_offset, prefix, head_dim, Eigen::OuterStride<>(kv_width));
        used.noalias() += scores.rightCols(keys) * value;
      }
      out.bottomRows(stored - queries).setZero();
    }
  }
}

}  // namespace model::cpu
MEZO_END_NAMESPACE
