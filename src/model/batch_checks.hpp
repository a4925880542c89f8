// The checks and position ids every MaskedLM-style forward shares (CPU and
// GPU), so both reject the same inputs with the same messages.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "mezo/model/config.hpp"
#include "mezo/model/masked_lm.hpp"

MEZO_BEGIN_NAMESPACE
namespace model {

// Throws mezo::Error(invalid_argument) "<who>: ..." for an empty or
// inconsistent batch, a length outside [1, seq_len], a sequence longer than
// the position table allows, or an id outside the vocabulary.
void validate_batch(const TransformerConfig& config, const TokenBatch& batch, std::string_view who);

// Also checks the queries (real tokens of their rows), the vocabulary ids and
// that `out_size` is queries × columns; `who` is e.g. "MaskedLM::mlm_logits".
void validate_mlm_request(const TransformerConfig& config, const TokenBatch& batch,
                          std::span<const MaskQuery> queries,
                          std::span<const std::int32_t> vocab_ids, std::size_t out_size,
                          std::string_view who);

// Position ids as the reference computes them: RoBERTa counts non-padding
// tokens from pad_token_id + 1 and gives padding pad_token_id; BERT counts 0, 1, 2...
void position_ids(const TransformerConfig& config, const TokenBatch& batch,
                  std::vector<std::int32_t>& out);

}  // namespace model
MEZO_END_NAMESPACE
