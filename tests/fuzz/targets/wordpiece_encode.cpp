// bert-base-uncased WordPiece (lower-casing, accent stripping, CJK splitting)
// on arbitrary bytes; also cased, chosen by the input's first byte.
#include "encode_common.hpp"

MEZO_FUZZ_TARGET(wordpiece_encode) {
  static const auto load = [](bool lower) {
    mezo::WordPieceOptions options;
    options.lower_case = lower;
    options.strip_accents = lower;
    return mezo::load_wordpiece_tokenizer(require_shared("tokenizers/bert-base-uncased/vocab.txt"), options);
  };
  static const auto uncased = load(true);
  static const auto cased = load(false);
  const bool use_cased = size > 0 && (data[0] & 1) != 0;
  return refuse_quietly([&] { encode_and_check(use_cased ? *cased : *uncased, as_text(data, size)); });
}
