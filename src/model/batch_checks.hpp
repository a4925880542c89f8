// The checks every forward shares (encoders and decoders, CPU and GPU), so
// all reject the same inputs with the same messages; and the encoders'
// position ids.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "mezo/model/batch.hpp"
#include "mezo/model/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace model {

// Throws mezo::Error(invalid_argument) "<who>: ..." for an empty or
// inconsistent batch, a length outside [1, seq_len], seq_len over
// max_seq_len, or an id outside [0, vocab_size).
void validate_token_batch(const TokenBatch& batch, std::int64_t vocab_size,
                          std::int64_t max_seq_len, std::string_view who);

// Also checks the queries (real tokens of their rows), the vocabulary ids and
// that `out_size` is queries × columns. `model` names the model in batch
// errors ("MaskedLM"), `who` the call ("MaskedLM::mlm_logits").
void validate_score_request(const TokenBatch& batch, std::span<const TokenQuery> queries,
                            std::span<const std::int32_t> vocab_ids, std::size_t out_size,
                            std::int64_t vocab_size, std::int64_t max_seq_len,
                            std::string_view model, std::string_view who);

// The longest sequence an encoder takes (RoBERTa loses pad_token_id + 1 positions).
std::int64_t max_sequence_length(const TransformerConfig& config);

// validate_token_batch for an encoder's config.
void validate_batch(const TransformerConfig& config, const TokenBatch& batch, std::string_view who);

// validate_score_request for an encoder; `who` is e.g. "MaskedLM::mlm_logits".
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
