// The transformer's building blocks on the GPU (see transformer_layers.hpp),
// each the twin of a CPU function in src/model/ops/. Kernels first,
// launchers after.
//
// Layout: every matrix is row-major, as on the CPU. cuBLAS is column-major, and
// a row-major (r, c) matrix with leading dimension ld is the same memory as a
// column-major (c, r) matrix with the same ld, i.e. its transpose. Each GEMM
// below is therefore written for the transposed product (Cᵀ = Bᵀ·Aᵀ) and says so.
//
// Built with --fmad=false (cuda/CMakeLists.txt): no a*b+c is contracted into
// an FMA, so the pointwise kernels perform the CPU's operations one by one.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <climits>
#include <cstdint>
#include <string>

#include "mezo/error.hpp"
#include "transformer_layers.hpp"

MEZO_BEGIN_NAMESPACE
namespace cuda::layers {
namespace {

constexpr int kThreads = 256;       // pointwise kernels and row kernels
constexpr unsigned kMaxBlocks = 65535u * 8;

// ---- Reductions ----

__device__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// The sum of v over the block (blockDim.x a multiple of 32, at most 1024),
// returned to every thread. shared holds 33 floats; reusable on return.
__device__ float block_sum(float v, float* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int warps = blockDim.x >> 5;
    float w = lane < warps ? shared[lane] : 0.0f;
    w = warp_sum(w);
    if (lane == 0) shared[32] = w;
  }
  __syncthreads();
  const float total = shared[32];
  __syncthreads();  // every thread has read it before shared is written again
  return total;
}

// The second half of LayerNorm on one row already holding x (+ residual),
// whose partial sums each thread passes in: mean, then the variance as a
// second pass over the row, then row ← (row − mean)·inv_std·g + b. The same
// operations as model::cpu::add_layer_norm, in the same order per element.
__device__ void normalize_row(float* row, float partial_sum, std::int64_t h, const float* g,
                              const float* b, float eps, float* shared) {
  const float mean = block_sum(partial_sum, shared) / static_cast<float>(h);
  float partial_sq = 0.0f;
  for (std::int64_t j = threadIdx.x; j < h; j += blockDim.x) {
    const float d = row[j] - mean;
    partial_sq += d * d;
  }
  const float var = block_sum(partial_sq, shared) / static_cast<float>(h);
  const float inv_std = 1.0f / sqrtf(var + eps);
  for (std::int64_t j = threadIdx.x; j < h; j += blockDim.x)
    row[j] = (row[j] - mean) * inv_std * g[j] + b[j];
}

// ---- Kernels ----

// One block per row (grid-stride over rows). Each thread writes back and
// later rereads the same elements, so the first pass needs no barrier.
__global__ void add_layer_norm_kernel(float* x, const float* residual, std::int64_t n,
                                      std::int64_t h, const float* g, const float* b, float eps) {
  __shared__ float shared[33];
  for (std::int64_t r = blockIdx.x; r < n; r += gridDim.x) {
    float* row = x + r * h;
    float partial = 0.0f;
    for (std::int64_t j = threadIdx.x; j < h; j += blockDim.x) {
      float value = row[j];
      if (residual != nullptr) value += residual[r * h + j];
      row[j] = value;
      partial += value;
    }
    normalize_row(row, partial, h, g, b, eps, shared);
  }
}

__global__ void embeddings_kernel(const std::int32_t* ids, const std::int32_t* positions,
                                  const std::int32_t* token_types, std::int64_t n, std::int64_t h,
                                  const float* word, const float* position,
                                  const float* token_type, const float* g, const float* b,
                                  float eps, float* out) {
  __shared__ float shared[33];
  for (std::int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const float* w = word + static_cast<std::int64_t>(ids[i]) * h;
    const float* p = position + static_cast<std::int64_t>(positions[i]) * h;
    const float* t =
        token_type + (token_types != nullptr ? static_cast<std::int64_t>(token_types[i]) * h : 0);
    float* row = out + i * h;
    float partial = 0.0f;
    for (std::int64_t j = threadIdx.x; j < h; j += blockDim.x) {
      const float value = w[j] + t[j] + p[j];  // MaskedLM's order: word + token type + position
      row[j] = value;
      partial += value;
    }
    normalize_row(row, partial, h, g, b, eps, shared);
  }
}

__global__ void add_bias_kernel(float* y, const float* b, std::int64_t count, std::int64_t cols) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       i < count; i += stride)
    y[i] += b[i % cols];
}

__global__ void bias_gelu_kernel(float* x, const float* bias, std::int64_t count,
                                 std::int64_t cols) {
  constexpr float kInvSqrt2 = 0.70710678118654752f;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       i < count; i += stride) {
    float v = x[i];
    if (bias != nullptr) v += bias[i % cols];
    // The CPU's order: (0.5·v)·(1 + erf(v/√2)). erff is within 2 ulp; the
    // CPU's Eigen erf is a different approximation of the same function.
    x[i] = 0.5f * v * (1.0f + erff(v * kInvSqrt2));
  }
}

__global__ void gather_rows_kernel(const float* src, std::int64_t width,
                                   const std::int32_t* indices, std::int64_t count, float* dst) {
  const std::int64_t total = count * width;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       e < total; e += stride) {
    const std::int64_t i = e / width, c = e - i * width;
    dst[e] = src[static_cast<std::int64_t>(indices[i]) * width + c];
  }
}

// Scores (rows, heads, seq, seq) → probabilities in place, one warp per query
// row of one head. Query i of batch row r sees keys [0, lengths[r]): scaled,
// max subtracted, exp, divided by the sum via one reciprocal (the CPU's
// operations); keys at and past lengths[r] get exactly 0, so they drop out of
// the ·V product as the CPU leaves them out.
__global__ void masked_softmax_kernel(float* scores, std::int64_t rows, std::int64_t heads,
                                      std::int64_t seq, const std::int32_t* lengths, float scale) {
  const int lane = threadIdx.x & 31;
  const std::int64_t warps_per_block = blockDim.x >> 5;
  const std::int64_t total = rows * heads * seq;
  const std::int64_t warp_stride = static_cast<std::int64_t>(gridDim.x) * warps_per_block;
  for (std::int64_t t = blockIdx.x * warps_per_block + (threadIdx.x >> 5); t < total;
       t += warp_stride) {
    const std::int64_t r = t / (heads * seq);
    std::int64_t keys = lengths[r];
    keys = keys < 0 ? 0 : (keys > seq ? seq : keys);
    float* s = scores + t * seq;
    float max_score = -INFINITY;
    for (std::int64_t j = lane; j < keys; j += 32) {
      const float v = s[j] * scale;
      s[j] = v;
      max_score = fmaxf(max_score, v);
    }
    max_score = warp_max(max_score);
    float partial = 0.0f;
    for (std::int64_t j = lane; j < keys; j += 32) {
      const float e = expf(s[j] - max_score);
      s[j] = e;
      partial += e;
    }
    const float inv_sum = 1.0f / warp_sum(partial);
    for (std::int64_t j = lane; j < seq; j += 32) s[j] = j < keys ? s[j] * inv_sum : 0.0f;
  }
}

// ---- Launch helpers ----

void require(bool ok, const char* function, const std::string& what) {
  if (!ok) {
    throw Error(ErrorCode::invalid_argument, std::string("mezo::cuda::layers::") + function + ": " + what);
  }
}

// cuBLAS's 32-bit API takes int dimensions.
int as_int(std::int64_t value, const char* function, const char* name) {
  require(value >= 0 && value <= INT_MAX, function,
          std::string(name) + " = " + std::to_string(value) + " is outside [0, INT_MAX]");
  return static_cast<int>(value);
}

unsigned pointwise_blocks(std::int64_t count) {
  const std::int64_t needed = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(needed < kMaxBlocks ? needed : kMaxBlocks);
}

unsigned row_blocks(std::int64_t rows) {
  return static_cast<unsigned>(rows < kMaxBlocks ? rows : kMaxBlocks);
}

}  // namespace

void add_bias(Context& ctx, float* y, const float* b, std::int64_t n, std::int64_t out) {
  require(n >= 0 && out >= 0, "add_bias", "negative size");
  if (n == 0 || out == 0 || b == nullptr) return;
  ctx.make_current();
  add_bias_kernel<<<pointwise_blocks(n * out), kThreads, 0, ctx.stream()>>>(y, b, n * out, out);
  check_cuda(cudaGetLastError(), "add_bias_kernel launch");
}

void linear(Context& ctx, const float* x, std::int64_t n, std::int64_t in, const float* w,
            const float* b, std::int64_t out, float* y) {
  const int n32 = as_int(n, "linear", "n"), in32 = as_int(in, "linear", "in"),
            out32 = as_int(out, "linear", "out");
  if (n == 0 || out == 0) return;
  ctx.make_current();
  if (in == 0) {
    check_cuda(cudaMemsetAsync(y, 0, static_cast<std::size_t>(n * out) * sizeof(float), ctx.stream()),
               "cudaMemsetAsync");
  } else {
    // Row-major y (n, out) is column-major yᵀ (out, n) with ld = out, and
    // yᵀ = w · xᵀ. Row-major w (out, in) is column-major wᵀ (in, out), ld = in,
    // so A = w with CUBLAS_OP_T gives w; row-major x (n, in) is column-major
    // xᵀ (in, n), ld = in, used as it is (CUBLAS_OP_N).
    const float one = 1.0f, zero = 0.0f;
    check_cublas(cublasSgemm(ctx.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, out32, n32, in32, &one, w,
                             in32, x, in32, &zero, y, out32),
                 "cublasSgemm (linear)");
  }
  add_bias(ctx, y, b, n, out);
}

void add_layer_norm(Context& ctx, float* x, const float* residual, std::int64_t n, std::int64_t h,
                    const float* g, const float* b, float eps) {
  require(n >= 0 && h >= 0, "add_layer_norm", "negative size");
  if (n == 0 || h == 0) return;
  ctx.make_current();
  add_layer_norm_kernel<<<row_blocks(n), kThreads, 0, ctx.stream()>>>(x, residual, n, h, g, b, eps);
  check_cuda(cudaGetLastError(), "add_layer_norm_kernel launch");
}

void bias_gelu(Context& ctx, float* x, const float* bias, std::int64_t n, std::int64_t cols) {
  require(n >= 0 && cols >= 0, "bias_gelu", "negative size");
  if (n == 0 || cols == 0) return;
  ctx.make_current();
  bias_gelu_kernel<<<pointwise_blocks(n * cols), kThreads, 0, ctx.stream()>>>(x, bias, n * cols,
                                                                              cols);
  check_cuda(cudaGetLastError(), "bias_gelu_kernel launch");
}

void embeddings(Context& ctx, const std::int32_t* ids, const std::int32_t* positions,
                const std::int32_t* token_types, std::int64_t n, std::int64_t h,
                const float* word, const float* position, const float* token_type,
                const float* ln_g, const float* ln_b, float eps, float* out) {
  require(n >= 0 && h >= 0, "embeddings", "negative size");
  if (n == 0 || h == 0) return;
  ctx.make_current();
  embeddings_kernel<<<row_blocks(n), kThreads, 0, ctx.stream()>>>(
      ids, positions, token_types, n, h, word, position, token_type, ln_g, ln_b, eps, out);
  check_cuda(cudaGetLastError(), "embeddings_kernel launch");
}

void attention(Context& ctx, const float* q, const float* k, const float* v, std::int64_t rows,
               std::int64_t seq, std::int64_t heads, std::int64_t head_dim,
               const std::int32_t* lengths, float* context) {
  const int rows32 = as_int(rows, "attention", "rows"), seq32 = as_int(seq, "attention", "seq");
  const int d32 = as_int(head_dim, "attention", "head_dim");
  require(heads >= 0, "attention", "negative heads");
  const int width32 = as_int(heads * head_dim, "attention", "heads·head_dim");
  if (rows == 0 || seq == 0 || heads == 0 || head_dim == 0) return;
  ctx.make_current();
  const std::int64_t width = heads * head_dim;
  // Scores (rows, heads, seq, seq): batch row r, head h, query i, key j.
  float* scores = static_cast<float*>(
      ctx.workspace(static_cast<std::size_t>(rows * heads * seq * seq) * sizeof(float)));
  const float one = 1.0f, zero = 0.0f;
  const long long row_stride = static_cast<long long>(seq) * width;   // q, k, v, context
  const long long score_stride = static_cast<long long>(heads) * seq * seq;

  // One head at a time, batched over rows: head h of row r starts at
  // r·seq·width + h·d, which is no single stride over (row, head) pairs, but
  // is a single stride (seq·width) over rows for a fixed head.
  for (std::int64_t h = 0; h < heads; ++h) {
    // S_rh (seq_q, seq_k) = Q_rh · K_rhᵀ, stored row-major, so column-major
    // Sᵀ (seq_k, seq_q), ld = seq, = K_rh · Q_rhᵀ. K_rh (seq_k, d) row-major
    // with row stride width is column-major K_rhᵀ (d, seq_k), ld = width:
    // CUBLAS_OP_T. Q_rh likewise is column-major Q_rhᵀ (d, seq_q): CUBLAS_OP_N.
    check_cublas(cublasSgemmStridedBatched(ctx.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, seq32, seq32,
                                           d32, &one, k + h * head_dim, width32, row_stride,
                                           q + h * head_dim, width32, row_stride, &zero,
                                           scores + h * seq * seq, seq32, score_stride, rows32),
                 "cublasSgemmStridedBatched (attention scores)");
  }
  const float scale = 1.0f / sqrtf(static_cast<float>(head_dim));  // as the CPU computes it
  const std::int64_t score_rows = rows * heads * seq;
  constexpr int kWarpsPerBlock = kThreads / 32;
  const std::int64_t blocks_needed = (score_rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
  masked_softmax_kernel<<<static_cast<unsigned>(blocks_needed < kMaxBlocks ? blocks_needed
                                                                           : kMaxBlocks),
                          kThreads, 0, ctx.stream()>>>(scores, rows, heads, seq, lengths, scale);
  check_cuda(cudaGetLastError(), "masked_softmax_kernel launch");
  for (std::int64_t h = 0; h < heads; ++h) {
    // C_rh (seq_q, d) = P_rh · V_rh, row-major with row stride width, so
    // column-major C_rhᵀ (d, seq_q), ld = width, = V_rhᵀ · P_rhᵀ: V_rh is
    // column-major V_rhᵀ (d, seq_k), ld = width, and P_rh (row-major,
    // ld = seq) is column-major P_rhᵀ (seq_k, seq_q): both CUBLAS_OP_N.
    check_cublas(cublasSgemmStridedBatched(ctx.cublas(), CUBLAS_OP_N, CUBLAS_OP_N, d32, seq32,
                                           seq32, &one, v + h * head_dim, width32, row_stride,
                                           scores + h * seq * seq, seq32, score_stride, &zero,
                                           context + h * head_dim, width32, row_stride, rows32),
                 "cublasSgemmStridedBatched (attention context)");
  }
}

void gather_rows(Context& ctx, const float* src, std::int64_t width, const std::int32_t* indices,
                 std::int64_t count, float* dst) {
  require(width >= 0 && count >= 0, "gather_rows", "negative size");
  if (width == 0 || count == 0) return;
  ctx.make_current();
  gather_rows_kernel<<<pointwise_blocks(count * width), kThreads, 0, ctx.stream()>>>(
      src, width, indices, count, dst);
  check_cuda(cudaGetLastError(), "gather_rows_kernel launch");
}

}  // namespace cuda::layers
MEZO_END_NAMESPACE
