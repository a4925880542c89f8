// Tokenising arbitrary bytes with a real vocabulary from the shared data folder.
#pragma once

#include <memory>
#include <stdexcept>
#include <vector>

#include "../fuzz_target.hpp"
#include "mezo/text/tokenizer.hpp"

namespace mezo_fuzz {

// The ids of `text`, every one of which must name a vocabulary entry;
// invalid UTF-8 is refused with mezo::Error (caught by the caller).
inline std::vector<std::int32_t> encode_and_check(const mezo::Tokenizer& tokenizer,
                                                  std::string_view text) {
  auto ids = tokenizer.encode(text);
  for (auto id : ids) {
    if (id < 0 || static_cast<std::size_t>(id) >= tokenizer.vocab_size()) {
      throw std::logic_error("encode() returned an id outside the vocabulary");
    }
  }
  return ids;
}

inline std::filesystem::path require_shared(const std::filesystem::path& relative) {
  auto path = shared_data_dir() / relative;
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error("fuzz target needs " + path.string() +
                             " (set MEZO_SHARED_DATA_DIR to the shared data folder)");
  }
  return path;
}

}  // namespace mezo_fuzz
