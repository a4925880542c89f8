// What every language model of libmezo takes in: a padded batch of token ids,
// and the positions whose scores are wanted.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

// A padded batch of token ids: row r holds lengths[r] real tokens followed by
// padding up to seq_len (right padding). Attention never looks at positions
// >= lengths[r].
struct MEZO_API TokenBatch {
  std::int64_t rows = 0;
  std::int64_t seq_len = 0;
  std::vector<std::int32_t> ids;      // [rows × seq_len], row-major
  std::vector<std::int32_t> lengths;  // [rows]

  // Pads `sequences` to the longest one with `pad_id`.
  static TokenBatch pad(std::span<const std::vector<std::int32_t>> sequences, std::int32_t pad_id);
};

// One position whose scores are wanted: a masked LM scores the token at
// (row, position); a causal LM scores the token that follows it.
struct TokenQuery {
  std::int64_t row = 0;
  std::int64_t position = 0;
};

using MaskQuery = TokenQuery;  // the masked-LM spelling

MEZO_END_NAMESPACE
