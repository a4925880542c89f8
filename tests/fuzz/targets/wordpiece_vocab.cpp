// BERT WordPiece vocab.txt, then a sentence encoded with it.
#include "../fuzz_target.hpp"
#include "mezo/text/tokenizer.hpp"

MEZO_FUZZ_TARGET(wordpiece_vocab) {
  return refuse_quietly([&] {
    mezo::WordPieceOptions options;
    options.lower_case = size % 2 == 0;  // both casings, chosen by the input
    auto tokenizer = mezo::load_wordpiece_tokenizer(write_scratch("vocab.txt", as_text(data, size)), options);
    auto ids = tokenizer->encode("Hello world, it was [MASK]. naïve café 東京 🙂  x");
    for (auto id : ids) (void)tokenizer->id_to_token(id);
  });
}
