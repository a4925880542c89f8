// The transformer's building blocks on the CPU, over row-major fp32 arrays.
// Shapes are given in the comments as (rows, columns).
#pragma once

#include <cstdint>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {

// y (n, out) = x (n, in) · wᵀ (w is (out, in), PyTorch's nn.Linear layout) + b (out).
void linear(const float* x, std::int64_t n, std::int64_t in, const float* w, const float* b,
            std::int64_t out, float* y);

// x (n, h) ← LayerNorm(x + residual) with gain g and bias b; residual may be null.
void add_layer_norm(float* x, const float* residual, std::int64_t n, std::int64_t h, const float* g,
                    const float* b, float eps);

// x ← GELU(x) with the exact erf form, as PyTorch's nn.GELU() / HF "gelu".
void gelu(float* x, std::int64_t count);

// Multi-head self-attention core for one padded batch:
// q, k, v (rows·seq, heads·d) → context (rows·seq, heads·d), attending only to
// the first lengths[r] keys of row r. With prefix > 0, every query first
// attends to the prefix rows of prefix_k / prefix_v (prefix, heads·d), shared
// by all rows (prefix tuning), then to its row's keys. scratch holds
// seq·(seq + prefix) floats per thread. prefix = 0 is the plain attention, bit
// for bit (the same code path).
void attention(const float* q, const float* k, const float* v, std::int64_t rows, std::int64_t seq,
               std::int64_t heads, std::int64_t head_dim, const std::int32_t* lengths,
               float* context, float* scratch, int threads, const float* prefix_k = nullptr,
               const float* prefix_v = nullptr, std::int64_t prefix = 0);

// y ← y + scale·u, elementwise (count elements).
void add_scaled(float* y, const float* u, std::int64_t count, float scale);

}  // namespace model::cpu
MEZO_END_NAMESPACE
