#include "model/batch_checks.hpp"

#include <fmt/format.h>

#include <string>

#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace model {

void validate_token_batch(const TokenBatch& batch, std::int64_t vocab_size,
                          std::int64_t max_seq_len, std::string_view who) {
  const auto fail = [&](const std::string& why) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", who, why));
  };
  if (batch.rows <= 0 || batch.seq_len <= 0) fail("empty batch");
  if (static_cast<std::int64_t>(batch.ids.size()) != batch.rows * batch.seq_len ||
      static_cast<std::int64_t>(batch.lengths.size()) != batch.rows) {
    fail(fmt::format("batch of {} rows × {} positions has {} ids and {} lengths", batch.rows,
                     batch.seq_len, batch.ids.size(), batch.lengths.size()));
  }
  if (batch.seq_len > max_seq_len) {
    fail(fmt::format("sequences of {} tokens exceed the model's {} positions", batch.seq_len,
                     max_seq_len));
  }
  for (std::int64_t r = 0; r < batch.rows; ++r) {
    if (batch.lengths[r] < 1 || batch.lengths[r] > batch.seq_len) {
      fail(
          fmt::format("row {} has length {}, outside [1, {}]", r, batch.lengths[r], batch.seq_len));
    }
  }
  for (std::size_t i = 0; i < batch.ids.size(); ++i) {
    if (batch.ids[i] < 0 || batch.ids[i] >= vocab_size) {
      fail(fmt::format("token id {} at row {}, position {} is outside the vocabulary [0, {})",
                       batch.ids[i], i / batch.seq_len, i % batch.seq_len, vocab_size));
    }
  }
}

std::int64_t max_sequence_length(const TransformerConfig& config) {
  // RoBERTa numbers positions from pad_token_id + 1.
  const std::int64_t first_position =
      config.model_type == ModelType::roberta ? config.pad_token_id + 1 : 0;
  return config.max_position_embeddings - first_position;
}

void validate_batch(const TransformerConfig& config, const TokenBatch& batch,
                    std::string_view who) {
  validate_token_batch(batch, config.vocab_size, max_sequence_length(config), who);
}

void validate_score_request(const TokenBatch& batch, std::span<const TokenQuery> queries,
                            std::span<const std::int32_t> vocab_ids, std::size_t out_size,
                            std::int64_t vocab_size, std::int64_t max_seq_len,
                            std::string_view model, std::string_view who) {
  const std::size_t columns =
      vocab_ids.empty() ? static_cast<std::size_t>(vocab_size) : vocab_ids.size();
  if (out_size != queries.size() * columns) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: output holds {} floats, needs {} queries × {}", who, out_size,
                            queries.size(), columns));
  }
  for (const std::int32_t id : vocab_ids) {
    if (id < 0 || id >= vocab_size) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: vocabulary id {} outside [0, {})", who, id, vocab_size));
    }
  }
  validate_token_batch(batch, vocab_size, max_seq_len, model);
  for (const TokenQuery& query : queries) {
    if (query.row < 0 || query.row >= batch.rows || query.position < 0 ||
        query.position >= batch.lengths[query.row]) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: query (row {}, position {}) is not a real token of the batch",
                              who, query.row, query.position));
    }
  }
}

void validate_mlm_request(const TransformerConfig& config, const TokenBatch& batch,
                          std::span<const MaskQuery> queries,
                          std::span<const std::int32_t> vocab_ids, std::size_t out_size,
                          std::string_view who) {
  validate_score_request(batch, queries, vocab_ids, out_size, config.vocab_size,
                         max_sequence_length(config), "MaskedLM", who);
}

void position_ids(const TransformerConfig& config, const TokenBatch& batch,
                  std::vector<std::int32_t>& out) {
  out.resize(batch.ids.size());
  for (std::int64_t r = 0; r < batch.rows; ++r) {
    std::int32_t count = 0;
    for (std::int64_t t = 0; t < batch.seq_len; ++t) {
      const std::size_t i = static_cast<std::size_t>(r * batch.seq_len + t);
      if (config.model_type == ModelType::bert) {
        out[i] = static_cast<std::int32_t>(t);
      } else if (batch.ids[i] == config.pad_token_id) {
        out[i] = static_cast<std::int32_t>(config.pad_token_id);
      } else {
        out[i] = static_cast<std::int32_t>(config.pad_token_id) + ++count;
      }
    }
  }
}

}  // namespace model
MEZO_END_NAMESPACE
