// The transformer's building blocks on the CPU, over row-major fp32 arrays:
// one op per file in this folder, shared by every model family (BERT-style
// encoders, Llama-style decoders). Shapes are given as (rows, columns); n is
// the number of token positions in the batch (rows × seq_len).
//
// Every op gives the same bits on any number of threads: work is split by
// shape, never by team size (see linear.cpp for why that needs care).
#pragma once

#include <cstdint>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

// linear.cpp — y (n, out) = x (n, in) · wᵀ (w is (out, in), PyTorch's
// nn.Linear layout) + b (out); b may be null.
void linear(const float* x, std::int64_t n, std::int64_t in, const float* w, const float* b,
            std::int64_t out, float* y);

// linear.cpp — y (n, count) = x (n, in) · w[rows]ᵀ + b[rows]: linear() for
// the chosen output rows of w only (a head's logits for a few vocabulary ids).
// b may be null.
void linear_rows(const float* x, std::int64_t n, std::int64_t in, const float* w, const float* b,
                 const std::int32_t* rows, std::int64_t count, float* y);

// layer_norm.cpp — x (n, h) ← LayerNorm(x + residual) with gain g and bias b;
// residual may be null.
void add_layer_norm(float* x, const float* residual, std::int64_t n, std::int64_t h, const float* g,
                    const float* b, float eps);

// rms_norm.cpp — y (n, h) = x · g / sqrt(mean(x²) + eps), as Llama's RMSNorm
// (the mean in fp32, then the gain). y may equal x.
void rms_norm(const float* x, std::int64_t n, std::int64_t h, const float* g, float eps, float* y);

// gelu.cpp — x ← GELU(x) with the exact erf form, as PyTorch's nn.GELU() / HF "gelu".
void gelu(float* x, std::int64_t count);

// swiglu.cpp — gate (n, i) ← SiLU(gate) · up, Llama's MLP activation
// (SiLU(g) = g / (1 + e^−g)).
void swiglu(float* gate, const float* up, std::int64_t count);

// geglu.cpp — gate (n, i) ← GELU_tanh(gate) · up, Gemma's MLP activation
// (PyTorch's gelu(approximate="tanh"): 0.5·g·(1 + tanh(√(2/π)·(g + 0.044715·g³)))).
void geglu_tanh(float* gate, const float* up, std::int64_t count);

// rope.cpp — rotary position embedding in Hugging Face's rotate-half
// convention, in place on x (n, heads · head_dim): for each head, element i
// and i + head_dim/2 are rotated by the angle position · inv_freq[i]
// (inv_freq has head_dim/2 entries). positions has n entries.
void rope(float* x, std::int64_t n, std::int64_t heads, std::int64_t head_dim,
          const std::int32_t* positions, const float* inv_freq);

// attention.cpp — the attention core for one padded batch.
struct AttentionShape {
  std::int64_t rows = 0, seq = 0;  // batch rows, padded sequence length
  std::int64_t heads = 0;          // query heads
  std::int64_t kv_heads = 0;       // key/value heads (grouped-query attention: heads / kv_heads
                                   // query heads share one); = heads for multi-head attention
  std::int64_t head_dim = 0;
  bool causal = false;      // query i sees keys 0..i only (decoders)
  std::int64_t prefix = 0;  // prefix-tuning positions every query sees first
  // > 0 (causal only): query i sees only the last `window` positions up to
  // itself (sliding-window attention, Gemma 3's local layers); the prefix
  // counts as the positions before the row's first token, as a KV cache's
  // entries are. 0: no window.
  std::int64_t window = 0;
  float scale = 0.0f;  // the scores' scale; 0: 1/√head_dim
  // Packed layout: row r's lengths[r] tokens are rows row_offsets[r]... of
  // q, k, v and context, with no padding stored (only real tokens are
  // computed). Null: the padded layout, row r at r·seq.
  const std::int64_t* row_offsets = nullptr;
};
// q (rows·seq, heads·d), k and v (rows·seq, kv_heads·d) → context
// (rows·seq, heads·d) — or (Σ lengths, ·) packed. Row r attends only to its
// first lengths[r] keys (right padding); with `causal`, query i to keys 0..i,
// and queries at padding positions get zeros. With prefix > 0, every query first attends to the
// prefix rows of prefix_k / prefix_v (prefix, kv_heads·d), shared by all rows.
// scratch holds seq·(seq + prefix) floats per thread. prefix = 0 is the plain
// attention, bit for bit (the same code path).
void attention(const AttentionShape& shape, const float* q, const float* k, const float* v,
               const std::int32_t* lengths, float* context, float* scratch, int threads,
               const float* prefix_k = nullptr, const float* prefix_v = nullptr);

// linear.cpp — y ← y + scale·u, elementwise (count elements).
void add_scaled(float* y, const float* u, std::int64_t count, float scale);

}  // namespace model::cpu
MEZO_END_NAMESPACE
