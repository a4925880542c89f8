// roberta-base byte-level BPE on arbitrary bytes.
#include "encode_common.hpp"

MEZO_FUZZ_TARGET(bpe_encode) {
  static const auto tokenizer =
      mezo::load_bpe_tokenizer(require_shared("tokenizers/roberta-base/vocab.json"),
                               require_shared("tokenizers/roberta-base/merges.txt"));
  return refuse_quietly([&] { encode_and_check(*tokenizer, as_text(data, size)); });
}
