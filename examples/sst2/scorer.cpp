#include "scorer.hpp"

namespace sst2 {

mezo::TokenBatch to_batch(std::span<const EncodedExample* const> examples, std::int32_t pad) {
  std::vector<std::vector<std::int32_t>> rows;
  rows.reserve(examples.size());
  for (const EncodedExample* e : examples) rows.push_back(e->ids);
  return mezo::TokenBatch::pad(rows, pad);
}

}  // namespace sst2
