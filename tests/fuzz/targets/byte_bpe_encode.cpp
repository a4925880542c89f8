// Arbitrary bytes through the byte-level BPE engine under each of its four
// pre-tokenizers (gpt2, smollm, llama3, qwen2; chosen by the first byte), on a
// vocabulary built here (every byte, a few merges, a control token). Beyond
// "no crash": every id is in the vocabulary and decode(encode(text)) gives the
// text back byte for byte (nothing normalises, nothing is stripped).
#include <stdexcept>
#include <string>

#include "../../byte_token.hpp"
#include "encode_common.hpp"
#include "mezo/text/tokenizer.hpp"

namespace {

std::unique_ptr<mezo::Tokenizer> make(mezo::BpePreTokenizer pre) {
  mezo::ByteLevelBpeVocabulary v;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(mezo_test::byte_token(b));
  for (const char* t : {"Ġt", "he", "Ġthe", "Ġ1", "12", "Ġa", "<|im_end|>"}) v.tokens.push_back(t);
  v.merges = {"Ġ t", "h e", "Ġt he", "Ġ 1", "1 2", "Ġ a"};
  v.token_types.assign(v.tokens.size(), 1);
  v.token_types.back() = 3;
  v.pre = pre;
  v.ignore_merges = pre == mezo::BpePreTokenizer::llama3;
  return mezo::make_byte_level_bpe(std::move(v));
}

}  // namespace

MEZO_FUZZ_TARGET(byte_bpe_encode) {
  static const std::unique_ptr<mezo::Tokenizer> tokenizers[] = {
      make(mezo::BpePreTokenizer::gpt2), make(mezo::BpePreTokenizer::smollm),
      make(mezo::BpePreTokenizer::llama3), make(mezo::BpePreTokenizer::qwen2)};
  if (size == 0) return 0;
  const mezo::Tokenizer& tok = *tokenizers[data[0] % 4];
  const std::string_view text = as_text(data + 1, size - 1);
  return refuse_quietly([&] {
    const auto ids = mezo_fuzz::encode_and_check(tok, text);
    if (tok.decode(ids) != text) throw std::logic_error("decode(encode(text)) != text");
  });
}
