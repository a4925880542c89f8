// GpuMaskedLM (mezo/model/gpu_masked_lm.hpp): MaskedLM's forward, layer for
// layer, on cuda::layers, with every weight read through the current probe.
//
// Reading a weight: fp32 weights with no probe are used where they lie. In
// every other case (a probe is active, or the weights are bf16, which the
// fp32 GEMMs cannot read) the tensor is materialised (cuda/probed_params.hpp)
// into the workspace just before the operation that reads it. The workspace
// also holds attention's scores, which are dead between attention calls, so
// it is sized to the larger of the two and a probed forward needs no more
// memory than an unprobed one of the same batch. The word embeddings and the
// decoder are never materialised whole: only the rows a batch reads are
// gathered, probe applied.
#include "mezo/model/gpu_masked_lm.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "cuda_context.hpp"
#include "cuda_param_pass.hpp"
#include "gpu_context_impl.hpp"
#include "mezo/bf16.hpp"
#include "mezo/error.hpp"
#include "model/batch_checks.hpp"
#include "model/bert/slot_field.hpp"
#include "model/bert/tensor_table.hpp"
#include "probed_params.hpp"
#include "transformer_layers.hpp"

MEZO_BEGIN_NAMESPACE
namespace {

using cuda::DeviceBuffer;
using cuda::probed::StoredTensor;

struct LayerTensors {
  StoredTensor query_w, query_b, key_w, key_b, value_w, value_b;
  StoredTensor attn_out_w, attn_out_b, attn_ln_w, attn_ln_b;
  StoredTensor inter_w, inter_b, out_w, out_b, out_ln_w, out_ln_b;
};

// A device buffer that grows to the largest request and then stays.
class GrowingBuffer {
 public:
  template <typename T>
  T* ensure(cuda::Context& ctx, std::size_t count, const char* what) {
    const std::size_t bytes = count * sizeof(T);
    if (buffer_.bytes() < bytes) {
      buffer_ = DeviceBuffer();  // free first: peak = the new size, not old + new
      buffer_ = DeviceBuffer(ctx, bytes, what);
    }
    return buffer_.as<T>();
  }

 private:
  DeviceBuffer buffer_;
};

// Materialised tensors of one operation, bump-allocated in the workspace and
// released together by the next reset(): 256-byte aligned pieces.
class Arena {
 public:
  void reset(float* base, std::size_t capacity) {
    base_ = base;
    capacity_ = capacity;
    used_ = 0;
  }
  float* take(std::size_t floats) {
    const std::size_t rounded = (floats + 63) / 64 * 64;
    if (used_ + rounded > capacity_) {
      throw Error(ErrorCode::internal, "GpuMaskedLM: workspace arena too small (a sizing bug)");
    }
    float* piece = base_ + used_;
    used_ += rounded;
    return piece;
  }
  static std::size_t rounded(std::size_t floats) { return (floats + 63) / 64 * 64; }

 private:
  float* base_ = nullptr;
  std::size_t capacity_ = 0, used_ = 0;
};

void copy_to_device(cuda::Context& ctx, void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  cuda::check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx.stream()),
                   "cudaMemcpyAsync (host to device)");
}

}  // namespace

struct GpuMaskedLM::Impl {
  GpuContext* gpu;
  cuda::Context& ctx;
  TransformerConfig config;
  GpuMaskedLMOptions options;
  DeviceBuffer weights;  // every tensor, in params() order
  ParamSet params;
  std::shared_ptr<DeferredPerturbation> perturbation;

  StoredTensor word_embeddings, position_embeddings, token_type_embeddings, embeddings_ln_w,
      embeddings_ln_b;
  std::vector<LayerTensors> layers;
  StoredTensor head_dense_w, head_dense_b, head_ln_w, head_ln_b, decoder_w, decoder_b;

  // Activations and the batch's indices, reused across forwards.
  GrowingBuffer hidden, q, k, v, context, intermediate, head_in, head_hidden, decoder_rows,
      decoder_bias, logits, indices;
  cuda::probed::Probe probe;  // of the forward in progress
  Arena arena;
  std::vector<std::int32_t> host_positions, host_indices;

  Impl(const MaskedLM& model, GpuContext& g, const GpuMaskedLMOptions& o)
      : gpu(&g), ctx(GpuContext::Impl::of(g)), config(model.config()), options(o) {
    if (o.weights != DType::f32 && o.weights != DType::bf16) {
      throw Error(ErrorCode::invalid_argument, "GpuMaskedLM: weights must be f32 or bf16");
    }
    if (model.lora_enabled() || model.prefix_enabled()) {
      throw Error(ErrorCode::unsupported,
                  "GpuMaskedLM: LoRA and prefix tuning are not implemented on the GPU yet; make "
                  "the GPU model from a MaskedLM without them");
    }
    if (!model.has_mlm_head()) {
      throw Error(ErrorCode::unsupported,
                  "GpuMaskedLM: the checkpoint has no masked-LM head; the GPU forward only "
                  "computes mlm_logits");
    }
    upload(model);
    resolve(model::bert::table_of(config, model.params()), model.params());
    perturbation = std::make_shared<DeferredPerturbation>(std::make_shared<CounterPerturbation>(
        o.distribution, ExecutionOptions{.num_threads = 0, .gpu = gpu}));
  }

  // One device buffer in the CPU model's layout (its params() are contiguous
  // and numbered in order, so element i of the buffer has global index i).
  void upload(const MaskedLM& model) {
    const ParamSet& cpu = model.params();
    const std::size_t elements = cpu.num_elements();
    const std::size_t element_bytes = size_of(options.weights);
    weights = DeviceBuffer(ctx, elements * element_bytes, "the model's weights");
    auto* device = static_cast<std::byte*>(weights.data());
    for (const ParamView& view : cpu.views()) {
      if (view.dtype != DType::f32 || view.device != Device::cpu) {
        throw Error(ErrorCode::internal, "GpuMaskedLM: the CPU model holds non-f32 host tensors");
      }
      void* dst = device + view.offset * element_bytes;
      if (options.weights == DType::f32) {
        copy_to_device(ctx, dst, view.data, view.size * 4);
        ctx.synchronize();  // the host memory is the caller's; finish with it now
        params.add(view.name, static_cast<float*>(dst), view.size, view.group, Device::cuda);
      } else {
        std::vector<std::uint16_t> rounded(view.size);
        for (std::size_t j = 0; j < view.size; ++j) rounded[j] = float_to_bf16(view.f32()[j]);
        copy_to_device(ctx, dst, rounded.data(), view.size * 2);
        ctx.synchronize();  // `rounded` dies at the end of this iteration
        params.add_bf16(view.name, static_cast<std::uint16_t*>(dst), view.size, view.group,
                        Device::cuda);
      }
    }
  }

  // Each tensor of the family's table, at its place in the buffer (params()
  // are contiguous, so view i's global offset is its index) with its size.
  void resolve(const std::vector<model::bert::TensorSpec>& table, const ParamSet& cpu) {
    const auto views = cpu.views();
    const std::size_t element_bytes = size_of(options.weights);
    layers.assign(static_cast<std::size_t>(config.num_hidden_layers), LayerTensors{});
    for (std::size_t i = 0; i < table.size(); ++i) {
      const std::uint64_t index = views[i].offset;
      model::bert::slot_field(*this, table[i]) =
          StoredTensor{static_cast<const std::byte*>(weights.data()) + index * element_bytes,
                       options.weights, index, static_cast<std::uint64_t>(table[i].num_elements())};
    }
    // A head without a decoder matrix of its own reads the word embeddings.
    const bool tied = std::none_of(table.begin(), table.end(), [](const auto& spec) {
      return spec.slot == model::bert::Slot::decoder_w;
    });
    if (tied) decoder_w = word_embeddings;
  }

  // The most floats materialised at once by one operation.
  std::size_t arena_floats() const {
    const std::size_t H = config.hidden_size, I = config.intermediate_size;
    const std::size_t embeddings = Arena::rounded(config.max_position_embeddings * H) +
                                   Arena::rounded(config.type_vocab_size * H) +
                                   2 * Arena::rounded(H);
    const std::size_t linear = Arena::rounded(I * H) + Arena::rounded(std::max(H, I));
    return std::max(embeddings, linear);
  }

  // The evaluated fp32 values of `t` for the operation about to be enqueued.
  const float* read(const StoredTensor& t) {
    if (t.dtype == DType::f32 && probe.count == 0) return static_cast<const float*>(t.data);
    float* out = arena.take(t.size);
    cuda::probed::materialize(ctx, t, probe, out);
    return out;
  }

  void linear(const float* x, std::int64_t n, std::int64_t in, const StoredTensor& w,
              const StoredTensor& b, std::int64_t out, float* y) {
    const float* weight = read(w);
    const float* bias = read(b);
    cuda::layers::linear(ctx, x, n, in, weight, bias, out, y);
  }

  void layer_norm(float* x, const float* residual, std::int64_t n, const StoredTensor& g,
                  const StoredTensor& b) {
    const float* gain = read(g);
    const float* bias = read(b);
    cuda::layers::add_layer_norm(ctx, x, residual, n, config.hidden_size, gain, bias,
                                 config.layer_norm_eps);
  }

  void forward(const TokenBatch& batch, std::span<const MaskQuery> queries,
               std::span<const std::int32_t> vocab_ids, std::span<float> out) {
    model::validate_mlm_request(config, batch, queries, vocab_ids, out.size(),
                                "GpuMaskedLM::mlm_logits");
    ctx.make_current();
    const std::vector<ZTerm> terms = perturbation->probe();
    probe = cuda::probed::make_probe(terms, options.distribution);

    const std::int64_t H = config.hidden_size, I = config.intermediate_size;
    const std::int64_t rows = batch.rows, seq = batch.seq_len, n = rows * seq;
    const std::int64_t heads = config.num_attention_heads;
    const std::int64_t nq = static_cast<std::int64_t>(queries.size());
    const bool all_columns = vocab_ids.empty();
    const std::int64_t columns =
        all_columns ? config.vocab_size : static_cast<std::int64_t>(vocab_ids.size());

    // Indices for the device, one upload: ids | positions | lengths | 0..n-1 |
    // query rows (row·seq + position) | vocabulary ids.
    model::position_ids(config, batch, host_positions);
    host_indices.clear();
    host_indices.insert(host_indices.end(), batch.ids.begin(), batch.ids.end());
    host_indices.insert(host_indices.end(), host_positions.begin(), host_positions.end());
    host_indices.insert(host_indices.end(), batch.lengths.begin(), batch.lengths.end());
    for (std::int64_t i = 0; i < n; ++i) host_indices.push_back(static_cast<std::int32_t>(i));
    for (const MaskQuery& query : queries)
      host_indices.push_back(static_cast<std::int32_t>(query.row * seq + query.position));
    for (std::int64_t j = 0; j < (all_columns ? columns : 0); ++j)
      host_indices.push_back(static_cast<std::int32_t>(j));
    host_indices.insert(host_indices.end(), vocab_ids.begin(), vocab_ids.end());
    std::int32_t* device_indices =
        indices.ensure<std::int32_t>(ctx, host_indices.size(), "the batch's indices");
    copy_to_device(ctx, device_indices, host_indices.data(), host_indices.size() * 4);
    const std::int32_t* ids = device_indices;
    const std::int32_t* positions = ids + n;
    const std::int32_t* lengths = positions + n;
    const std::int32_t* token_rows = lengths + rows;
    const std::int32_t* query_rows = token_rows + n;
    const std::int32_t* vocabulary = query_rows + nq;

    float* h = hidden.ensure<float>(ctx, n * H, "hidden states");
    float* qb = q.ensure<float>(ctx, n * H, "queries");
    float* kb = k.ensure<float>(ctx, n * H, "keys");
    float* vb = v.ensure<float>(ctx, n * H, "values");
    float* cb = context.ensure<float>(ctx, n * H, "attention context");
    float* ib = intermediate.ensure<float>(ctx, n * I, "the intermediate activations");

    // One workspace for attention's scores and the materialised weights,
    // sized the same whether or not a probe is active, so that a training
    // step and inference on the same batch hold the same memory.
    const std::size_t scores = static_cast<std::size_t>(rows * heads * seq * seq);
    const std::size_t workspace_floats = std::max(scores, arena_floats());
    float* workspace = static_cast<float*>(ctx.workspace(workspace_floats * sizeof(float)));
    const auto fresh_arena = [&] { arena.reset(workspace, workspace_floats); };

    // Embeddings: the probed word rows of the batch gathered into `context`
    // (free until the first attention), then summed with positions and token
    // types and normalised as layers::embeddings does, reading row i for token i.
    cuda::probed::gather_rows(ctx, word_embeddings, H, ids, n, probe, cb);
    fresh_arena();
    const float* position_table = read(position_embeddings);
    const float* type_table = read(token_type_embeddings);
    const float* ln_w = read(embeddings_ln_w);
    const float* ln_b = read(embeddings_ln_b);
    cuda::layers::embeddings(ctx, token_rows, positions, nullptr, n, H, cb, position_table,
                             type_table, ln_w, ln_b, config.layer_norm_eps, h);

    for (const LayerTensors& l : layers) {
      fresh_arena();
      linear(h, n, H, l.query_w, l.query_b, H, qb);
      fresh_arena();
      linear(h, n, H, l.key_w, l.key_b, H, kb);
      fresh_arena();
      linear(h, n, H, l.value_w, l.value_b, H, vb);
      // Attention writes its scores over the arena: nothing materialised is live.
      cuda::layers::attention(ctx, qb, kb, vb, rows, seq, heads, config.head_dim(), lengths, cb);
      fresh_arena();
      linear(cb, n, H, l.attn_out_w, l.attn_out_b, H, qb);
      fresh_arena();
      layer_norm(h, qb, n, l.attn_ln_w, l.attn_ln_b);
      fresh_arena();
      linear(h, n, H, l.inter_w, l.inter_b, I, ib);
      cuda::layers::bias_gelu(ctx, ib, nullptr, n, I);
      fresh_arena();
      linear(ib, n, I, l.out_w, l.out_b, H, qb);
      fresh_arena();
      layer_norm(h, qb, n, l.out_ln_w, l.out_ln_b);
    }

    // The head, on the queried positions only.
    float* head_x = head_in.ensure<float>(ctx, nq * H, "the head's inputs");
    float* head_y = head_hidden.ensure<float>(ctx, nq * H, "the head's hidden states");
    cuda::layers::gather_rows(ctx, h, H, query_rows, nq, head_x);
    fresh_arena();
    linear(head_x, nq, H, head_dense_w, head_dense_b, H, head_y);
    cuda::layers::bias_gelu(ctx, head_y, nullptr, nq, H);
    fresh_arena();
    layer_norm(head_y, nullptr, nq, head_ln_w, head_ln_b);
    // The decoder rows of the wanted ids (all of them when none are named).
    float* rows_out = decoder_rows.ensure<float>(ctx, columns * H, "the decoder rows");
    float* bias_out = decoder_bias.ensure<float>(ctx, columns, "the decoder biases");
    cuda::probed::gather_rows(ctx, decoder_w, H, vocabulary, columns, probe, rows_out);
    cuda::probed::gather_rows(ctx, decoder_b, 1, vocabulary, columns, probe, bias_out);
    float* result = logits.ensure<float>(ctx, nq * columns, "the logits");
    cuda::layers::linear(ctx, head_y, nq, H, rows_out, bias_out, columns, result);
    cuda::check_cuda(
        cudaMemcpyAsync(out.data(), result, out.size_bytes(), cudaMemcpyDeviceToHost, ctx.stream()),
        "cudaMemcpyAsync (logits to the host)");
    ctx.synchronize();
  }

  void download(MaskedLM& model) const {
    const ParamSet& cpu = model.params();
    const auto mismatch = [] {
      throw Error(ErrorCode::invalid_argument,
                  "GpuMaskedLM::download: the target model's tensors differ from this model's "
                  "(names, sizes or order)");
    };
    if (cpu.views().size() != params.views().size()) mismatch();
    for (std::size_t i = 0; i < cpu.views().size(); ++i) {
      const ParamView &host = cpu.views()[i], &device = params.views()[i];
      if (host.name != device.name || host.size != device.size || host.dtype != DType::f32 ||
          host.device != Device::cpu)
        mismatch();
    }
    ctx.make_current();
    std::vector<std::uint16_t> staged;
    for (std::size_t i = 0; i < cpu.views().size(); ++i) {
      const ParamView &host = cpu.views()[i], &device = params.views()[i];
      if (device.dtype == DType::f32) {
        cuda::check_cuda(cudaMemcpyAsync(host.data, device.data, host.size * 4,
                                         cudaMemcpyDeviceToHost, ctx.stream()),
                         "cudaMemcpyAsync (weights to the host)");
        ctx.synchronize();
      } else {
        staged.resize(device.size);
        cuda::check_cuda(cudaMemcpyAsync(staged.data(), device.data, device.size * 2,
                                         cudaMemcpyDeviceToHost, ctx.stream()),
                         "cudaMemcpyAsync (weights to the host)");
        ctx.synchronize();
        for (std::size_t j = 0; j < device.size; ++j) host.f32()[j] = bf16_to_float(staged[j]);
      }
    }
  }
};

GpuMaskedLM::GpuMaskedLM(const MaskedLM& model, GpuContext& gpu, const GpuMaskedLMOptions& options)
    : impl_(std::make_unique<Impl>(model, gpu, options)) {}
GpuMaskedLM::~GpuMaskedLM() = default;
GpuMaskedLM::GpuMaskedLM(GpuMaskedLM&&) noexcept = default;
GpuMaskedLM& GpuMaskedLM::operator=(GpuMaskedLM&&) noexcept = default;

const TransformerConfig& GpuMaskedLM::config() const { return impl_->config; }
const ParamSet& GpuMaskedLM::params() const { return impl_->params; }
std::shared_ptr<DeferredPerturbation> GpuMaskedLM::perturbation() const {
  return impl_->perturbation;
}

void GpuMaskedLM::mlm_logits(const TokenBatch& batch, std::span<const MaskQuery> queries,
                             std::span<const std::int32_t> vocab_ids, std::span<float> out) {
  impl_->forward(batch, queries, vocab_ids, out);
}

void GpuMaskedLM::download(MaskedLM& model) const { impl_->download(model); }

MEZO_END_NAMESPACE
