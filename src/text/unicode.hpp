// Unicode helpers shared by the tokenizers: strict UTF-8 decoding (errors name
// the byte offset), the character classes the Hugging Face tokenizers use
// (backed by ICU's property tables), NFD accent stripping, per-character
// lower-casing, NFC, and the splitting of text on atomic special tokens.
// The character classes were checked code point by code point (all of
// U+0000..U+10FFFF) against Hugging Face tokenizers 0.23.3.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// Text decoded to code points. offsets[i] is the byte offset of cps[i] in the
// source; offsets[cps.size()] is the source's length.
struct DecodedText {
  std::vector<char32_t> cps;
  std::vector<std::uint32_t> offsets;
};

// Decodes strict UTF-8 (no overlong forms, surrogates, code points above
// U+10FFFF or truncated sequences). Throws mezo::Error(invalid_argument)
// naming `what` and the byte offset of the first bad sequence.
DecodedText decode_utf8(std::string_view text, std::string_view what = "text");
// Throws as decode_utf8 does when `text` is not valid UTF-8.
void check_utf8(std::string_view text, std::string_view what = "text");
void append_utf8(std::string& out, char32_t cp);

// Unicode White_Space (what Rust's char::is_whitespace and Oniguruma's \s use).
bool is_white_space(char32_t cp);
// General category L* (\p{L}) and N* (\p{N}), as the GPT-2 regex of Hugging
// Face tokenizers sees them (ICU's tables plus the letters and numbers of
// Unicode 15.1/16.0, which its Oniguruma knows).
bool is_letter(char32_t cp);
bool is_number(char32_t cp);
// BERT's classes, as Hugging Face tokenizers' BertNormalizer / BertPreTokenizer
// compute them: categories from Unicode 8.0 tables in which unassigned code
// points are in no category. control = Cc, Cf, Co or Cs except \t \n \r;
// whitespace = \t \n \r or White_Space; punctuation = ASCII punctuation or
// P*; CJK = the ideograph blocks tokenizers pads with spaces.
bool is_bert_control(char32_t cp);
bool is_bert_whitespace(char32_t cp);
bool is_bert_punctuation(char32_t cp);
bool is_cjk_ideograph(char32_t cp);

// Canonical decomposition (NFD) of `cps` with nonspacing marks (Mn, Unicode
// 8.0 as above) removed: BERT's accent stripping.
std::vector<char32_t> strip_accents(const std::vector<char32_t>& cps);
// Canonical composition (NFC) of valid UTF-8: Qwen2's tokenizer.json normaliser.
std::string nfc(std::string_view utf8);
// Full per-character lower-case mapping with no context (Σ is always σ, as
// in Rust's char::to_lowercase, unlike Python's str.lower).
void append_lowercase(std::vector<char32_t>& out, char32_t cp);

// A special token kept atomic in the text it appears in.
struct AtomicToken {
  std::string text;
  std::int32_t id = -1;
  bool lstrip = false;  // also swallows the whitespace just before it
  bool rstrip = false;  // and just after it
};

// A piece of split text: either a plain byte range of the source
// ([begin, end), special_id == -1) or one special token.
struct TextPiece {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::int32_t special_id = -1;
};

// Splits valid UTF-8 `text` on the leftmost-longest exact occurrences of
// `tokens` (the Hugging Face added-token semantics). Empty plain pieces are
// dropped.
std::vector<TextPiece> split_on_atomic_tokens(std::string_view text,
                                              const std::vector<AtomicToken>& tokens);

}  // namespace detail
MEZO_END_NAMESPACE
