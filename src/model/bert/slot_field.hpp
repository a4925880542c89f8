// Which member holds each encoder tensor. The CPU forward's pointers
// (ModelWeights: const float*) and the GPU forward's stored tensors
// (GpuMaskedLM: StoredTensor) name their members alike, so this one mapping
// from the tensor table's slots serves both.
#pragma once

#include <cstddef>

#include "mezo/error.hpp"
#include "model/bert/tensor_table.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::bert {

// The member of `m` (or of its layer spec.layer, m.layers[spec.layer]) that
// holds `spec`'s tensor. `m.layers` must already have the table's layers.
template <class Tensors>
auto& slot_field(Tensors& m, const TensorSpec& spec) {
  auto* l = spec.layer < 0 ? nullptr : &m.layers[static_cast<std::size_t>(spec.layer)];
  switch (spec.slot) {
    case Slot::word_embeddings:
      return m.word_embeddings;
    case Slot::position_embeddings:
      return m.position_embeddings;
    case Slot::token_type_embeddings:
      return m.token_type_embeddings;
    case Slot::embeddings_ln_w:
      return m.embeddings_ln_w;
    case Slot::embeddings_ln_b:
      return m.embeddings_ln_b;
    case Slot::query_w:
      return l->query_w;
    case Slot::query_b:
      return l->query_b;
    case Slot::key_w:
      return l->key_w;
    case Slot::key_b:
      return l->key_b;
    case Slot::value_w:
      return l->value_w;
    case Slot::value_b:
      return l->value_b;
    case Slot::attn_out_w:
      return l->attn_out_w;
    case Slot::attn_out_b:
      return l->attn_out_b;
    case Slot::attn_ln_w:
      return l->attn_ln_w;
    case Slot::attn_ln_b:
      return l->attn_ln_b;
    case Slot::inter_w:
      return l->inter_w;
    case Slot::inter_b:
      return l->inter_b;
    case Slot::out_w:
      return l->out_w;
    case Slot::out_b:
      return l->out_b;
    case Slot::out_ln_w:
      return l->out_ln_w;
    case Slot::out_ln_b:
      return l->out_ln_b;
    case Slot::head_dense_w:
      return m.head_dense_w;
    case Slot::head_dense_b:
      return m.head_dense_b;
    case Slot::head_ln_w:
      return m.head_ln_w;
    case Slot::head_ln_b:
      return m.head_ln_b;
    case Slot::decoder_w:
      return m.decoder_w;
    case Slot::decoder_b:
      return m.decoder_b;
  }
  throw Error(ErrorCode::internal, "encoder tensor table: unknown slot");
}

}  // namespace model::bert
MEZO_END_NAMESPACE
