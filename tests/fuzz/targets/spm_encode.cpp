// Arbitrary bytes through the SentencePiece tokenizer (llama.cpp's SPM
// algorithm), with and without the space prefix (chosen by the first byte),
// on a vocabulary built here: every byte token, a few merged pieces with
// scores, a control and a user-defined piece. Beyond "no crash": every id is
// in the vocabulary, and decode(encode(text)) gives the text back byte for
// byte wherever no whole piece (after which llama.cpp adds a space) and no
// literal "▁" (which decodes as a space) is in it.
#include <stdexcept>
#include <string>

#include "encode_common.hpp"
#include "mezo/text/tokenizer.hpp"

namespace {

std::unique_ptr<mezo::Tokenizer> make(bool add_space_prefix) {
  mezo::SentencePieceVocabulary v;
  for (const char* t : {"<unk>", "<s>", "</s>"}) v.tokens.push_back(t);
  v.token_types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    v.tokens.push_back(hex);
    v.token_types.push_back(6);
  }
  for (const char* t : {"\xE2\x96\x81", "\xE2\x96\x81t", "he", "\xE2\x96\x81the", "e", "h", "t",
                        "\xE2\x96\x81\xE2\x96\x81", "<ctl>", "<u>"}) {
    v.tokens.push_back(t);
    v.token_types.push_back(1);
  }
  v.token_types[v.tokens.size() - 2] = 3;
  v.token_types[v.tokens.size() - 1] = 4;
  v.scores.resize(v.tokens.size());
  for (std::size_t i = 0; i < v.scores.size(); ++i) v.scores[i] = -static_cast<float>(i % 7);
  v.special = {.begin = 1, .end = 2, .unknown = 0, .add_begin = true};
  v.add_space_prefix = add_space_prefix;
  return mezo::make_sentencepiece(std::move(v));
}

}  // namespace

MEZO_FUZZ_TARGET(spm_encode) {
  static const std::unique_ptr<mezo::Tokenizer> tokenizers[] = {make(true), make(false)};
  if (size == 0) return 0;
  const mezo::Tokenizer& tok = *tokenizers[data[0] % 2];
  const std::string_view text = as_text(data + 1, size - 1);
  return refuse_quietly([&] {
    const auto ids = mezo_fuzz::encode_and_check(tok, text);
    for (const char* whole : {"<unk>", "<s>", "</s>", "<ctl>", "<u>", "\xE2\x96\x81"}) {
      if (text.find(whole) != std::string_view::npos) return;
    }
    if (tok.decode(ids) != text) throw std::logic_error("decode(encode(text)) != text");
  });
}
