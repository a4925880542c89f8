#include "mezo/model/batch.hpp"

#include <algorithm>

MEZO_BEGIN_NAMESPACE

TokenBatch TokenBatch::pad(std::span<const std::vector<std::int32_t>> sequences,
                           std::int32_t pad_id) {
  TokenBatch batch;
  batch.rows = static_cast<std::int64_t>(sequences.size());
  for (const auto& s : sequences) batch.seq_len = std::max<std::int64_t>(batch.seq_len, s.size());
  batch.ids.assign(static_cast<std::size_t>(batch.rows * batch.seq_len), pad_id);
  for (std::size_t r = 0; r < sequences.size(); ++r) {
    std::copy(sequences[r].begin(), sequences[r].end(),
              batch.ids.begin() + static_cast<std::ptrdiff_t>(r * batch.seq_len));
    batch.lengths.push_back(static_cast<std::int32_t>(sequences[r].size()));
  }
  return batch;
}

MEZO_END_NAMESPACE
