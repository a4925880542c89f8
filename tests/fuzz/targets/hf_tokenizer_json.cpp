// A Hugging Face tokenizer.json: the loaded tokenizer encodes a sentence with
// special tokens in it; every id maps back to a token and decodes.
#include <string_view>

#include "../fuzz_target.hpp"
#include "mezo/text/tokenizer.hpp"

MEZO_FUZZ_TARGET(hf_tokenizer_json) {
  return refuse_quietly([&] {
    const auto tokenizer =
        mezo::load_hf_tokenizer_json(write_scratch("tokenizer.json", as_text(data, size)));
    const auto ids = tokenizer->encode(
        "<|im_start|>user\nHello world! 1234 it's naïve café 東京 🙂  x<|im_end|>\n\r\n  "
        "end");
    for (const auto id : ids) (void)tokenizer->id_to_token(id);
    (void)tokenizer->decode(ids);
  });
}
