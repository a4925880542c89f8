#include <fmt/format.h>

#include "commands.hpp"

namespace lm {

// Prints the ids on one line, then one line per token: id, vocabulary entry, text.
int tokenize(const Common& common, const std::string& text) {
  const Loaded loaded = load(common, /*with_model=*/false, /*with_tokenizer=*/true);
  const auto ids = encode_for_model(*loaded.tokenizer, text);
  fmt::print("{}\n", fmt::join(ids, " "));
  for (const std::int32_t id : ids) {
    const std::int32_t one[] = {id};
    fmt::print("{:>8}  {:<24}  {}\n", id, quoted(loaded.tokenizer->id_to_token(id)),
               quoted(loaded.tokenizer->decode(one)));
  }
  return 0;
}

}  // namespace lm
