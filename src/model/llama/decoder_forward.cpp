#include "model/llama/decoder_forward.hpp"

#include <algorithm>
#include <cmath>

#include "model/forward_support.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::llama {

std::int64_t DecoderForward::pack(const TokenBatch& batch, std::int64_t first_position,
                                  std::int64_t H, const float* embed, float embed_scale) {
  row_offsets_.resize(static_cast<std::size_t>(batch.rows));
  std::int64_t n = 0;
  for (std::int64_t r = 0; r < batch.rows; ++r) {
    row_offsets_[static_cast<std::size_t>(r)] = n;
    n += batch.lengths[r];
  }
  ensure_size(hidden_, n * H);
  positions_.resize(static_cast<std::size_t>(n));
  for (std::int64_t r = 0; r < batch.rows; ++r) {
    for (std::int64_t t = 0; t < batch.lengths[r]; ++t) {
      const std::int64_t i = row_offsets_[static_cast<std::size_t>(r)] + t;
      positions_[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(first_position + t);
      const std::int64_t id = batch.ids[static_cast<std::size_t>(r * batch.seq_len + t)];
      const float* row = embed + id * H;
      if (embed_scale == 1.0f) {
        std::copy_n(row, H, hidden_.data() + i * H);
      } else {  // one product per element, as transformers' embeds * scale
        std::transform(row, row + H, hidden_.data() + i * H,
                       [embed_scale](float x) { return x * embed_scale; });
      }
    }
  }
  return n;
}

void DecoderForward::run(const DecoderConfig& c, const DecoderWeights& weights,
                         const RopeTables& rope, const Adapters& adapters, const TokenBatch& batch,
                         int threads, std::vector<float>* capture, DecoderCache* cache) {
  config_ = &c, weights_ = &weights, rope_ = &rope, adapters_ = adapters;
  // The positions every query sees first: the cache's, or the prefix's.
  const std::int64_t m = cache != nullptr ? cache->length : adapters.prefix_tokens();
  const std::int64_t H = c.hidden_size, I = c.intermediate_size;
  const std::int64_t q_width = c.num_attention_heads * c.head_dim;
  const std::int64_t kv_width = c.num_key_value_heads * c.head_dim;
  // Gemma scales the embeddings by √hidden, rounded to fp32 as transformers does.
  const float embed_scale =
      c.arch == DecoderArch::gemma3 ? static_cast<float>(std::sqrt(static_cast<double>(H))) : 1.0f;
  const std::int64_t n = pack(batch, m, H, weights.embed(), embed_scale);
  for (auto* buffer : {&normed_, &projected_}) ensure_size(*buffer, n * H);
  for (auto* buffer : {&q_, &context_}) ensure_size(*buffer, n * q_width);
  for (auto* buffer : {&k_, &v_}) ensure_size(*buffer, n * kv_width);
  for (auto* buffer : {&gate_, &up_}) ensure_size(*buffer, n * I);
  ensure_size(scratch_, static_cast<std::int64_t>(threads) * batch.seq_len * (batch.seq_len + m));
  if (capture != nullptr) {
    capture->assign(static_cast<std::size_t>(2 * n * kv_width) * weights.num_layers(), 0.0f);
  }
  if (cache != nullptr) {
    // Room for the new entries first, so that appending them cannot throw
    // and leave the layers' caches at different lengths.
    const auto size = static_cast<std::size_t>((m + n) * kv_width);
    cache->keys.resize(weights.num_layers());
    cache->values.resize(weights.num_layers());
    for (std::size_t l = 0; l < weights.num_layers(); ++l) {
      cache->keys[l].reserve(size);
      cache->values[l].reserve(size);
    }
  }
  const cpu::AttentionShape shape{
      .rows = batch.rows,
      .seq = batch.seq_len,
      .heads = c.num_attention_heads,
      .kv_heads = c.num_key_value_heads,
      .head_dim = c.head_dim,
      .causal = true,
      .prefix = m,
      .window = 0,
      .scale =
          c.query_pre_attn_scalar > 0.0f
              ? static_cast<float>(std::pow(static_cast<double>(c.query_pre_attn_scalar), -0.5))
              : 0.0f,
      .row_offsets = row_offsets_.data()};
  for (std::size_t l = 0; l < weights.num_layers(); ++l) {
    attention_block(l, n, shape, batch, threads, capture, cache);
    mlp_block(l, n);
  }
  if (cache != nullptr) cache->length = m + n;
}

void DecoderForward::attention_block(std::size_t l, std::int64_t n,
                                     const cpu::AttentionShape& shape, const TokenBatch& batch,
                                     int threads, std::vector<float>* capture,
                                     DecoderCache* cache) {
  const DecoderConfig& c = *config_;
  const LayerPointers& w = weights_->layer(l);
  const std::int64_t H = c.hidden_size, d = c.head_dim;
  const std::int64_t q_width = c.num_attention_heads * d, kv_width = c.num_key_value_heads * d;
  cpu::rms_norm(hidden_.data(), n, H, w[Slot::attn_norm], c.rms_norm_eps, normed_.data());
  project_(normed_.data(), n, H, w[Slot::q_w], w[Slot::q_b], q_width, q_.data());
  adapt(l, LoraTarget::query, normed_.data(), n, q_.data());
  project_(normed_.data(), n, H, w[Slot::k_w], w[Slot::k_b], kv_width, k_.data());
  adapt(l, LoraTarget::key, normed_.data(), n, k_.data());
  project_(normed_.data(), n, H, w[Slot::v_w], w[Slot::v_b], kv_width, v_.data());
  adapt(l, LoraTarget::value, normed_.data(), n, v_.data());
  if (w[Slot::q_norm] != nullptr) {  // Gemma 3: each head RMS-normed, in place
    cpu::rms_norm(q_.data(), n * c.num_attention_heads, d, w[Slot::q_norm], c.rms_norm_eps,
                  q_.data());
    cpu::rms_norm(k_.data(), n * c.num_key_value_heads, d, w[Slot::k_norm], c.rms_norm_eps,
                  k_.data());
  }
  const float* inv_freq = rope_->of_layer(c, static_cast<std::int64_t>(l)).data();
  cpu::rope(q_.data(), n, c.num_attention_heads, d, positions_.data(), inv_freq);
  cpu::rope(k_.data(), n, c.num_key_value_heads, d, positions_.data(), inv_freq);
  if (capture != nullptr) {
    float* out = capture->data() + static_cast<std::ptrdiff_t>(2 * l * n * kv_width);
    std::copy_n(k_.data(), n * kv_width, out);
    std::copy_n(v_.data(), n * kv_width, out + n * kv_width);
  }
  const float *prefix_k = nullptr, *prefix_v = nullptr;
  if (cache != nullptr) {
    prefix_k = cache->keys[l].data(), prefix_v = cache->values[l].data();
  } else if (shape.prefix > 0) {
    prefix_k = adapters_.buffer->at(adapters_.prefix->keys[l]);
    prefix_v = adapters_.buffer->at(adapters_.prefix->values[l]);
  }
  cpu::AttentionShape layer_shape = shape;
  if (is_sliding_layer(c, static_cast<std::int64_t>(l))) layer_shape.window = c.sliding_window;
  cpu::attention(layer_shape, q_.data(), k_.data(), v_.data(), batch.lengths.data(),
                 context_.data(), scratch_.data(), threads, prefix_k, prefix_v);
  if (cache != nullptr) {  // within the capacity reserved by run()
    cache->keys[l].insert(cache->keys[l].end(), k_.data(), k_.data() + n * kv_width);
    cache->values[l].insert(cache->values[l].end(), v_.data(), v_.data() + n * kv_width);
  }
  project_(context_.data(), n, q_width, w[Slot::o_w], w[Slot::o_b], H, projected_.data());
  adapt(l, LoraTarget::attention_output, context_.data(), n, projected_.data());
  if (w[Slot::post_attn_norm] != nullptr) {
    cpu::rms_norm(projected_.data(), n, H, w[Slot::post_attn_norm], c.rms_norm_eps,
                  projected_.data());
  }
  cpu::add_scaled(hidden_.data(), projected_.data(), n * H, 1.0f);
}

void DecoderForward::mlp_block(std::size_t l, std::int64_t n) {
  const DecoderConfig& c = *config_;
  const LayerPointers& w = weights_->layer(l);
  const std::int64_t H = c.hidden_size, I = c.intermediate_size;
  cpu::rms_norm(hidden_.data(), n, H, w[Slot::mlp_norm], c.rms_norm_eps, normed_.data());
  project_(normed_.data(), n, H, w[Slot::gate_w], nullptr, I, gate_.data());
  adapt(l, LoraTarget::gate, normed_.data(), n, gate_.data());
  project_(normed_.data(), n, H, w[Slot::up_w], nullptr, I, up_.data());
  adapt(l, LoraTarget::intermediate, normed_.data(), n, up_.data());
  if (c.arch == DecoderArch::gemma3) {
    cpu::geglu_tanh(gate_.data(), up_.data(), n * I);
  } else {
    cpu::swiglu(gate_.data(), up_.data(), n * I);
  }
  project_(gate_.data(), n, I, w[Slot::down_w], nullptr, H, projected_.data());
  adapt(l, LoraTarget::output, gate_.data(), n, projected_.data());
  if (w[Slot::post_mlp_norm] != nullptr) {
    cpu::rms_norm(projected_.data(), n, H, w[Slot::post_mlp_norm], c.rms_norm_eps,
                  projected_.data());
  }
  cpu::add_scaled(hidden_.data(), projected_.data(), n * H, 1.0f);
}

void DecoderForward::adapt(std::size_t l, LoraTarget target, const float* x, std::int64_t n,
                           float* y) {
  const LoraState* lora = adapters_.lora;
  if (lora == nullptr || !lora->enabled) return;
  if (const LoraFactor* f = lora->find(l, target))
    add_lora(*lora, *adapters_.buffer, *f, x, n, y, lora_t_, lora_u_);
}

const float* DecoderForward::hidden(std::int64_t row, std::int64_t position) const {
  const std::int64_t token = row_offsets_[static_cast<std::size_t>(row)] + position;
  return hidden_.data() + token * config_->hidden_size;
}

}  // namespace model::llama
MEZO_END_NAMESPACE
