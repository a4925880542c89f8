// RoBERTa BPE vocabulary files: the input is vocab.json, a NUL byte, then
// merges.txt (no NUL: all of it is vocab.json and merges.txt is empty).
#include <string_view>

#include "../fuzz_target.hpp"
#include "mezo/text/tokenizer.hpp"

MEZO_FUZZ_TARGET(bpe_files) {
  std::string_view bytes = as_text(data, size);
  auto cut = bytes.find('\0');
  std::string_view vocab = bytes.substr(0, cut);
  std::string_view merges = cut == std::string_view::npos ? std::string_view() : bytes.substr(cut + 1);
  return refuse_quietly([&] {
    auto tokenizer = mezo::load_bpe_tokenizer(write_scratch("vocab.json", vocab),
                                              write_scratch("merges.txt", merges));
    auto ids = tokenizer->encode("Hello world, it was <mask>. naïve café 東京 🙂  x");
    for (auto id : ids) (void)tokenizer->id_to_token(id);
  });
}
