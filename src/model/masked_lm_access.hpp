// What libmezo's other forwards (GpuMaskedLM) need from a MaskedLM beyond its
// public interface: where each tensor of the architecture lies in params().
#pragma once

#include "mezo/model/masked_lm.hpp"
#include "model/weights.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

struct MaskedLMAccess {
  static const model::ModelWeights& weights(const MaskedLM& model);
};

}  // namespace detail
MEZO_END_NAMESPACE
