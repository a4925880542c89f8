// The transformer's building blocks on the GPU: the device twins of
// src/model/ops/ops.hpp (and of the embedding sum and masked-LM head
// gathers in src/model/bert/masked_lm.cpp), over row-major fp32 arrays in device
// memory, with the same shapes and semantics. Shapes are (rows, columns).
//
// Every function enqueues its work on ctx.stream() and returns without
// waiting (call ctx.synchronize() to wait and to surface asynchronous kernel
// errors); it throws mezo::Error(invalid_argument) for negative or too large
// sizes and mezo::Error(internal) when a launch or a cuBLAS call fails.
// Pointers are device pointers unless said otherwise; indices they hold
// (token ids, positions, lengths, gather indices) are the caller's to
// validate, as the CPU forward validates its batch before running.
//
// Results differ from the CPU twins by summation order only (reductions and
// GEMMs add in a different order; no TF32 unless the Context allows it); the
// pointwise kernels give each element the same operations whatever the launch shape.
#pragma once

#include <cstdint>

#include "cuda_context.hpp"
#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace cuda::layers {

// y (n, out) = x (n, in) · wᵀ + b (out): w is (out, in), PyTorch's nn.Linear
// layout; b may be null. One cublasSgemm, then a bias kernel (the product is
// rounded before the bias is added, as on the CPU).
void linear(Context& ctx, const float* x, std::int64_t n, std::int64_t in, const float* w,
            const float* b, std::int64_t out, float* y);

// y (n, out) += b (out), every row.
void add_bias(Context& ctx, float* y, const float* b, std::int64_t n, std::int64_t out);

// x (n, h) ← LayerNorm(x + residual) with gain g (h) and bias b (h); residual
// may be null. One block per row, the sum of x + residual written back first,
// then the mean and the variance as two passes over the row, as the CPU does.
void add_layer_norm(Context& ctx, float* x, const float* residual, std::int64_t n, std::int64_t h,
                    const float* g, const float* b, float eps);

// x (n, cols) ← GELU(x + bias), bias (cols) may be null (then the twin of
// model::cpu::gelu on n·cols elements). Exact erf form, as nn.GELU().
void bias_gelu(Context& ctx, float* x, const float* bias, std::int64_t n, std::int64_t cols);

// out (n, h) ← LayerNorm(word[ids[i]] + token_type[token_types[i]] + position[positions[i]]),
// summed in that order as MaskedLM does; token_types may be null (every token
// segment 0). word (vocab, h), position (max_positions, h), token_type (types, h).
void embeddings(Context& ctx, const std::int32_t* ids, const std::int32_t* positions,
                const std::int32_t* token_types, std::int64_t n, std::int64_t h,
                const float* word, const float* position, const float* token_type,
                const float* ln_g, const float* ln_b, float eps, float* out);

// Multi-head self-attention core for one padded batch, the twin of
// model::cpu::attention without prefix: q, k, v (rows·seq, heads·d) →
// context (rows·seq, heads·d), every query of row r attending only to the
// first lengths[r] keys (lengths: device int32, rows; clamped to [0, seq]; a
// row of length 0 gets context 0, as on the CPU). Scores live in ctx's
// workspace: rows·heads·seq² floats. Padding rows of k and v must be finite
// (they are multiplied by probability 0, not skipped).
void attention(Context& ctx, const float* q, const float* k, const float* v, std::int64_t rows,
               std::int64_t seq, std::int64_t heads, std::int64_t head_dim,
               const std::int32_t* lengths, float* context);

// dst (count, width) ← src rows indices[i] (indices: device int32, count).
// The masked-LM head's gathers: hidden rows at the masked positions
// (index row·seq + position), decoder rows and biases of the selected ids.
void gather_rows(Context& ctx, const float* src, std::int64_t width, const std::int32_t* indices,
                 std::int64_t count, float* dst);

}  // namespace cuda::layers
MEZO_END_NAMESPACE
