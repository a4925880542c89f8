// The CPU ops of src/model/ops against naive double-precision references, and
// the layouts and head groupings of attention against each other.
#include "model/ops/ops.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "model/llama/tensor_table.hpp"
#include "test_support.hpp"

namespace {

namespace cpu = mezo::model::cpu;
using mezo_test::random_f32;

// Naive causal attention in double for one padded batch (keys_per_group query heads per kv head).
std::vector<double> reference_causal_attention(const std::vector<float>& q,
                                               const std::vector<float>& k,
                                               const std::vector<float>& v,
                                               const cpu::AttentionShape& s,
                                               const std::vector<std::int32_t>& lengths) {
  const std::int64_t width = s.heads * s.head_dim, kv_width = s.kv_heads * s.head_dim;
  std::vector<double> out(static_cast<std::size_t>(s.rows * s.seq * width), 0.0);
  for (std::int64_t r = 0; r < s.rows; ++r) {
    for (std::int64_t h = 0; h < s.heads; ++h) {
      const std::int64_t g = h / (s.heads / s.kv_heads);
      for (std::int64_t i = 0; i < lengths[r]; ++i) {
        std::vector<double> p(static_cast<std::size_t>(i + 1));
        double max = -INFINITY;
        for (std::int64_t j = 0; j <= i; ++j) {
          double dot = 0;
          for (std::int64_t e = 0; e < s.head_dim; ++e)
            dot += double{q[(r * s.seq + i) * width + h * s.head_dim + e]} *
                   k[(r * s.seq + j) * kv_width + g * s.head_dim + e];
          p[j] = dot / std::sqrt(static_cast<double>(s.head_dim));
          max = std::max(max, p[j]);
        }
        double sum = 0;
        for (double& x : p) sum += (x = std::exp(x - max));
        for (std::int64_t e = 0; e < s.head_dim; ++e) {
          double acc = 0;
          for (std::int64_t j = 0; j <= i; ++j)
            acc += p[j] / sum * v[(r * s.seq + j) * kv_width + g * s.head_dim + e];
          out[(r * s.seq + i) * width + h * s.head_dim + e] = acc;
        }
      }
    }
  }
  return out;
}

TEST(Ops, CausalGroupedAttentionMatchesANaiveReference) {
  const cpu::AttentionShape shape{
      .rows = 3, .seq = 50, .heads = 6, .kv_heads = 2, .head_dim = 16, .causal = true};
  const std::vector<std::int32_t> lengths = {50, 31, 1};
  const std::int64_t n = shape.rows * shape.seq;
  const auto q = random_f32(n * 6 * 16, 1, 0.5f), k = random_f32(n * 2 * 16, 2, 0.5f),
             v = random_f32(n * 2 * 16, 3, 1.0f);
  std::vector<float> out(n * 6 * 16, NAN), scratch(2 * 50 * 50);
  cpu::attention(shape, q.data(), k.data(), v.data(), lengths.data(), out.data(), scratch.data(),
                 2);
  const auto want = reference_causal_attention(q, k, v, shape, lengths);
  for (std::int64_t r = 0; r < shape.rows; ++r) {
    for (std::int64_t t = 0; t < shape.seq; ++t) {
      for (std::int64_t e = 0; e < 96; ++e) {
        const std::size_t i = static_cast<std::size_t>((r * shape.seq + t) * 96 + e);
        if (t < lengths[r]) {
          ASSERT_NEAR(out[i], want[i], 1e-5) << "row " << r << " position " << t;
        } else {
          ASSERT_EQ(out[i], 0.0f) << "padding position " << t << " of row " << r;
        }
      }
    }
  }
}

// Grouped-query attention is multi-head attention with each key/value head
// repeated for its group: bit for bit, since each head does the same work.
TEST(Ops, GroupedAttentionEqualsRepeatedKeyValueHeads) {
  const std::int64_t rows = 2, seq = 20, d = 8, heads = 4, kv_heads = 2;
  const std::vector<std::int32_t> lengths = {20, 13};
  const auto q = random_f32(rows * seq * heads * d, 4, 0.5f);
  const auto k = random_f32(rows * seq * kv_heads * d, 5, 0.5f);
  const auto v = random_f32(rows * seq * kv_heads * d, 6, 1.0f);
  std::vector<float> k_full(rows * seq * heads * d), v_full(k_full.size());
  for (std::int64_t t = 0; t < rows * seq; ++t)
    for (std::int64_t h = 0; h < heads; ++h)
      for (std::int64_t e = 0; e < d; ++e) {
        k_full[(t * heads + h) * d + e] = k[(t * kv_heads + h / 2) * d + e];
        v_full[(t * heads + h) * d + e] = v[(t * kv_heads + h / 2) * d + e];
      }
  std::vector<float> grouped(q.size()), full(q.size()), scratch(seq * seq);
  const cpu::AttentionShape gqa{.rows = rows,
                                .seq = seq,
                                .heads = heads,
                                .kv_heads = kv_heads,
                                .head_dim = d,
                                .causal = true};
  cpu::AttentionShape mha = gqa;
  mha.kv_heads = heads;
  cpu::attention(gqa, q.data(), k.data(), v.data(), lengths.data(), grouped.data(), scratch.data(),
                 1);
  cpu::attention(mha, q.data(), k_full.data(), v_full.data(), lengths.data(), full.data(),
                 scratch.data(), 1);
  for (std::size_t i = 0; i < full.size(); ++i)
    ASSERT_EQ(mezo_test::bits_of(grouped[i]), mezo_test::bits_of(full[i])) << i;
}

// The packed layout (real tokens only) gives each real token the bits of the
// padded layout.
TEST(Ops, PackedCausalAttentionEqualsPadded) {
  const std::int64_t rows = 3, seq = 40, d = 16, heads = 3;
  const std::vector<std::int32_t> lengths = {17, 40, 5};
  const std::vector<std::int64_t> offsets = {0, 17, 57};
  const std::int64_t width = heads * d, packed_n = 62;
  const auto q = random_f32(rows * seq * width, 7, 0.5f), k = random_f32(q.size(), 8, 0.5f),
             v = random_f32(q.size(), 9, 1.0f);
  std::vector<float> pq(packed_n * width), pk(pq.size()), pv(pq.size());
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t t = 0; t < lengths[r]; ++t)
      for (std::int64_t e = 0; e < width; ++e) {
        const auto from = (r * seq + t) * width + e, to = (offsets[r] + t) * width + e;
        pq[to] = q[from], pk[to] = k[from], pv[to] = v[from];
      }
  cpu::AttentionShape shape{
      .rows = rows, .seq = seq, .heads = heads, .kv_heads = heads, .head_dim = d, .causal = true};
  std::vector<float> padded(q.size()), packed(pq.size()), scratch(seq * seq);
  cpu::attention(shape, q.data(), k.data(), v.data(), lengths.data(), padded.data(), scratch.data(),
                 1);
  shape.row_offsets = offsets.data();
  cpu::attention(shape, pq.data(), pk.data(), pv.data(), lengths.data(), packed.data(),
                 scratch.data(), 1);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t t = 0; t < lengths[r]; ++t)
      for (std::int64_t e = 0; e < width; ++e)
        ASSERT_EQ(mezo_test::bits_of(packed[(offsets[r] + t) * width + e]),
                  mezo_test::bits_of(padded[(r * seq + t) * width + e]));
}

TEST(Ops, RmsNormMatchesANaiveReference) {
  const std::int64_t n = 5, h = 576;
  const auto x = random_f32(n * h, 10, 2.0f), g = random_f32(h, 11, 1.0f);
  std::vector<float> y(x.size());
  cpu::rms_norm(x.data(), n, h, g.data(), 1e-5f, y.data());
  for (std::int64_t r = 0; r < n; ++r) {
    double ss = 0;
    for (std::int64_t j = 0; j < h; ++j) ss += double{x[r * h + j]} * x[r * h + j];
    const double inv = 1.0 / std::sqrt(ss / h + 1e-5);
    for (std::int64_t j = 0; j < h; ++j)
      ASSERT_NEAR(y[r * h + j], g[j] * x[r * h + j] * inv, 1e-5 * std::abs(g[j]) * 4);
  }
}

// A head's logits for a few vocabulary ids: the chosen rows of w (with and
// without bias) against a double reference, ids repeated and out of order.
TEST(Ops, LinearRowsMatchesANaiveReference) {
  const std::int64_t n = 3, in = 576, vocab = 40;
  const auto x = random_f32(n * in, 12, 1.0f), w = random_f32(vocab * in, 13, 0.05f);
  const auto b = random_f32(vocab, 14, 1.0f);
  const std::vector<std::int32_t> rows = {37, 2, 2, 19};
  const auto count = static_cast<std::int64_t>(rows.size());
  for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
    std::vector<float> y(static_cast<std::size_t>(n * count));
    cpu::linear_rows(x.data(), n, in, w.data(), bias, rows.data(), count, y.data());
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j < count; ++j) {
        double want = bias != nullptr ? bias[rows[j]] : 0.0;
        for (std::int64_t e = 0; e < in; ++e) want += double{x[i * in + e]} * w[rows[j] * in + e];
        ASSERT_NEAR(y[i * count + j], want, 1e-5) << "row " << i << ", id " << rows[j];
      }
    }
  }
}

// Rotate-half RoPE: element i pairs with i + d/2, angle position · inv_freq[i].
TEST(Ops, RopeRotatesHalvesByPositionTimesFrequency) {
  const std::int64_t n = 3, heads = 2, d = 8;
  auto x = random_f32(n * heads * d, 12, 1.0f);
  const auto original = x;
  const std::vector<std::int32_t> positions = {0, 1, 57};
  const std::vector<float> inv_freq = {1.0f, 0.1f, 0.01f, 0.001f};
  cpu::rope(x.data(), n, heads, d, positions.data(), inv_freq.data());
  for (std::int64_t t = 0; t < n; ++t)
    for (std::int64_t h = 0; h < heads; ++h)
      for (std::int64_t i = 0; i < d / 2; ++i) {
        const double angle = positions[t] * double{inv_freq[i]};
        const float a = original[(t * heads + h) * d + i],
                    b = original[(t * heads + h) * d + i + 4];
        EXPECT_NEAR(x[(t * heads + h) * d + i], a * std::cos(angle) - b * std::sin(angle), 1e-5);
        EXPECT_NEAR(x[(t * heads + h) * d + i + 4], b * std::cos(angle) + a * std::sin(angle),
                    1e-5);
      }
}

// llama.cpp's converter permutation and its inverse, on the rule of
// ../shared/guide/DECODERS.md: GGUF row h·d + 2i + j holds HF row h·d + j·d/2 + i.
TEST(Ops, RopeRowPermutationFollowsTheConverterAndInverts) {
  const std::int64_t heads = 3, d = 8, cols = 5;
  std::vector<float> hf(heads * d * cols);
  std::iota(hf.begin(), hf.end(), 0.0f);
  auto gguf = hf;
  mezo::model::llama::permute_rope_rows(gguf.data(), heads, d, cols, /*to_hf=*/false);
  for (std::int64_t h = 0; h < heads; ++h)
    for (std::int64_t i = 0; i < d / 2; ++i)
      for (std::int64_t j = 0; j < 2; ++j)
        for (std::int64_t c = 0; c < cols; ++c)
          ASSERT_EQ(gguf[(h * d + 2 * i + j) * cols + c], hf[(h * d + j * d / 2 + i) * cols + c]);
  mezo::model::llama::permute_rope_rows(gguf.data(), heads, d, cols, /*to_hf=*/true);
  EXPECT_EQ(gguf, hf);
}

TEST(Ops, SwigluIsSiluOfGateTimesUp) {
  std::vector<float> gate = {-3.0f, -0.5f, 0.0f, 0.7f, 4.0f};
  const std::vector<float> up = {2.0f, -1.0f, 5.0f, 3.0f, 0.25f};
  const auto g0 = gate;
  cpu::swiglu(gate.data(), up.data(), 5);
  for (int i = 0; i < 5; ++i)
    EXPECT_NEAR(gate[i], g0[i] / (1.0 + std::exp(-double{g0[i]})) * up[i], 1e-6);
}

}  // namespace
