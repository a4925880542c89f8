#include "text/unicode.hpp"

#include <fmt/format.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <array>

#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

namespace {

constexpr bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Decodes the sequence at text[pos]. On success sets cp and len and returns
// nullptr; otherwise returns what is wrong with it (formatted into `buffer`).
const char* decode_one(std::string_view text, std::size_t pos, char32_t& cp, std::size_t& len,
                       std::string& buffer) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char b0 = byte(pos);
  if (b0 < 0x80) {
    cp = b0;
    len = 1;
    return nullptr;
  }
  if (is_continuation(b0)) {
    buffer = fmt::format("unexpected continuation byte 0x{:02X}", b0);
    return buffer.c_str();
  }
  if (b0 == 0xC0 || b0 == 0xC1) {
    buffer = fmt::format("overlong encoding (lead byte 0x{:02X})", b0);
    return buffer.c_str();
  }
  if (b0 >= 0xF5) {
    buffer = fmt::format("byte 0x{:02X} never appears in UTF-8", b0);
    return buffer.c_str();
  }
  const std::size_t need = b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
  for (std::size_t i = 1; i < need; ++i) {
    if (pos + i >= text.size()) {
      buffer = fmt::format("truncated {}-byte sequence at the end of the text", need);
      return buffer.c_str();
    }
    if (!is_continuation(byte(pos + i))) {
      buffer = fmt::format(
          "truncated {}-byte sequence (byte 0x{:02X} after it is not a "
          "continuation byte)",
          need, byte(pos + i));
      return buffer.c_str();
    }
  }
  char32_t value = b0 & (0x7F >> need);
  for (std::size_t i = 1; i < need; ++i) value = (value << 6) | (byte(pos + i) & 0x3F);
  static constexpr char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kMin[need]) {
    buffer = fmt::format("overlong encoding of U+{:04X}", static_cast<std::uint32_t>(value));
    return buffer.c_str();
  }
  if (value >= 0xD800 && value <= 0xDFFF) {
    buffer = fmt::format("encoded surrogate U+{:04X}", static_cast<std::uint32_t>(value));
    return buffer.c_str();
  }
  if (value > 0x10FFFF) {
    buffer = fmt::format("code point U+{:X} above U+10FFFF", static_cast<std::uint32_t>(value));
    return buffer.c_str();
  }
  cp = value;
  len = need;
  return nullptr;
}

// The code point starting at a known-valid position.
char32_t decode_valid(std::string_view text, std::size_t pos, std::size_t& len) {
  char32_t cp = 0;
  std::string unused;
  if (decode_one(text, pos, cp, len, unused) != nullptr) {
    len = 1;
    return 0xFFFD;
  }
  return cp;
}

[[noreturn]] void throw_invalid(std::string_view what, const char* reason, std::size_t pos) {
  throw Error(ErrorCode::invalid_argument,
              fmt::format("{} is not valid UTF-8: {} at byte offset {}", what, reason, pos));
}

std::uint32_t category_mask(char32_t cp) { return U_GET_GC_MASK(static_cast<UChar32>(cp)); }

struct Range {
  char32_t first, last;
};

template <std::size_t N>
bool in_ranges(const Range (&ranges)[N], char32_t cp) {
  for (const Range& r : ranges) {
    if (cp < r.first) return false;
    if (cp <= r.last) return true;
  }
  return false;
}

// Letters and numbers assigned in Unicode 15.1 and 16.0, which ICU 72
// (Unicode 15.0) does not know but the Oniguruma tables behind tokenizers'
// GPT-2 regex do. Only consulted for code points ICU calls unassigned.
constexpr Range kNewLetters[] = {
    {0x1C89, 0x1C8A},   {0xA7CB, 0xA7CD},   {0xA7DA, 0xA7DC},   {0x105C0, 0x105F3},
    {0x10D4A, 0x10D65}, {0x10D6F, 0x10D85}, {0x10EC2, 0x10EC4}, {0x11380, 0x11389},
    {0x1138B, 0x1138B}, {0x1138E, 0x1138E}, {0x11390, 0x113B5}, {0x113B7, 0x113B7},
    {0x113D1, 0x113D1}, {0x113D3, 0x113D3}, {0x11BC0, 0x11BE0}, {0x13460, 0x143FA},
    {0x16100, 0x1611D}, {0x16D40, 0x16D6C}, {0x18CFF, 0x18CFF}, {0x1E5D0, 0x1E5ED},
    {0x1E5F0, 0x1E5F0}, {0x2EBF0, 0x2EE5D},
};
constexpr Range kNewNumbers[] = {
    {0x10D40, 0x10D49}, {0x116D0, 0x116E3}, {0x11BF0, 0x11BF9}, {0x16130, 0x16139},
    {0x16D70, 0x16D79}, {0x1CCF0, 0x1CCF9}, {0x1E5F1, 0x1E5FA},
};

// Simple lower-case mappings of capitals assigned in Unicode 16.0 and 17.0
// (Rust's char::to_lowercase knows them, ICU 72 does not): [first, last] maps
// to first + delta onwards. Only consulted for code points ICU calls unassigned.
struct LowerRange {
  char32_t first, last, lower_of_first;
};
constexpr LowerRange kNewLowercase[] = {
    {0x1C89, 0x1C89, 0x1C8A},    {0xA7CB, 0xA7CB, 0x0264}, {0xA7CC, 0xA7CC, 0xA7CD},
    {0xA7CE, 0xA7CE, 0xA7CF},    {0xA7D2, 0xA7D2, 0xA7D3}, {0xA7D4, 0xA7D4, 0xA7D5},
    {0xA7DA, 0xA7DA, 0xA7DB},    {0xA7DC, 0xA7DC, 0x019B}, {0x10D50, 0x10D65, 0x10D70},
    {0x16EA0, 0x16EB8, 0x16EBB},
};

// The general category as Hugging Face tokenizers' BERT normaliser and
// pre-tokeniser see it: they use the unicode_categories crate, whose tables
// are Unicode 8.0 and have no unassigned (Cn) entries. So a code point
// assigned after 8.0 is in no category, and the few whose category changed
// since 8.0 keep their 8.0 one.
std::uint32_t bert_category_mask(char32_t cp) {
  switch (cp) {
    case 0x166D:   // CANADIAN SYLLABICS CHI SIGN: Po in 8.0, So now
    case 0x111C9:  // SHARADA SANDHI MARK: Po in 8.0, Mn now
      return U_GC_PO_MASK;
    case 0x1734:  // HANUNOO SIGN PAMUDPOD: Mn in 8.0, Mc now
      return U_GC_MN_MASK;
    case 0x1885:  // MONGOLIAN LETTER ALI GALI BALUDA: Lo in 8.0, Mn now
    case 0x1886:
      return U_GC_LO_MASK;
    case 0xA9BD:  // JAVANESE CONSONANT SIGN KERET: Mc in 8.0, Mn now
      return U_GC_MC_MASK;
    default:
      break;
  }
  UVersionInfo age;
  u_charAge(static_cast<UChar32>(cp), age);
  if (age[0] == 0 || age[0] > 8) return 0;
  return category_mask(cp) & ~U_GC_CN_MASK;
}

}  // namespace

DecodedText decode_utf8(std::string_view text, std::string_view what) {
  DecodedText out;
  out.cps.reserve(text.size());
  out.offsets.reserve(text.size() + 1);
  std::string buffer;
  std::size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    std::size_t len = 0;
    if (const char* reason = decode_one(text, pos, cp, len, buffer))
      throw_invalid(what, reason, pos);
    out.cps.push_back(cp);
    out.offsets.push_back(static_cast<std::uint32_t>(pos));
    pos += len;
  }
  out.offsets.push_back(static_cast<std::uint32_t>(text.size()));
  return out;
}

void check_utf8(std::string_view text, std::string_view what) {
  std::string buffer;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    char32_t cp = 0;
    std::size_t len = 0;
    if (const char* reason = decode_one(text, pos, cp, len, buffer))
      throw_invalid(what, reason, pos);
    pos += len;
  }
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_white_space(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE) != 0;
}

bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  const std::uint32_t mask = category_mask(cp);
  if (mask & U_GC_L_MASK) return true;
  return (mask & U_GC_CN_MASK) != 0 && in_ranges(kNewLetters, cp);
}

bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  const std::uint32_t mask = category_mask(cp);
  if (mask & U_GC_N_MASK) return true;
  return (mask & U_GC_CN_MASK) != 0 && in_ranges(kNewNumbers, cp);
}

bool is_bert_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  if (cp < 0x80) return cp < 0x20 || cp == 0x7F;
  return (bert_category_mask(cp) & (U_GC_CC_MASK | U_GC_CF_MASK | U_GC_CO_MASK | U_GC_CS_MASK)) !=
         0;
}

bool is_bert_whitespace(char32_t cp) {
  return cp == '\t' || cp == '\n' || cp == '\r' || is_white_space(cp);
}

bool is_bert_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  if (cp < 0x80) return false;
  return (bert_category_mask(cp) & U_GC_P_MASK) != 0;
}

bool is_cjk_ideograph(char32_t cp) {
  // The ranges of tokenizers' BertNormalizer (which starts Extension E at
  // U+2B920, unlike the Python BasicTokenizer's U+2B820).
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

std::vector<char32_t> strip_accents(const std::vector<char32_t>& cps) {
  // Below U+00C0 every character is its own decomposition and none is a mark.
  bool trivial = true;
  for (char32_t cp : cps) {
    if (cp >= 0xC0) {
      trivial = false;
      break;
    }
  }
  if (trivial) return cps;

  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status)) {
    throw Error(ErrorCode::internal,
                fmt::format("ICU NFD normaliser unavailable: {}", u_errorName(status)));
  }
  std::vector<char32_t> out;
  out.reserve(cps.size());
  const auto decompose = [&](std::size_t begin, std::size_t end) {
    const icu::UnicodeString source =
        icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(cps.data() + begin),
                                      static_cast<std::int32_t>(end - begin));
    const icu::UnicodeString decomposed = nfd->normalize(source, status);
    if (U_FAILURE(status)) {
      throw Error(ErrorCode::internal,
                  fmt::format("ICU NFD normalisation failed: {}", u_errorName(status)));
    }
    for (std::int32_t i = 0; i < decomposed.length();) {
      const UChar32 c = decomposed.char32At(i);
      i += U16_LENGTH(c);
      if ((bert_category_mask(static_cast<char32_t>(c)) & U_GC_MN_MASK) == 0) {
        out.push_back(static_cast<char32_t>(c));
      }
    }
  };
  // tokenizers' NFD (the unicode-normalization crate) leaves U+11938 DIVES
  // AKURU VOWEL SIGN O whole; it is a starter, so decomposing around it is exact.
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= cps.size(); ++i) {
    if (i == cps.size() || cps[i] == 0x11938) {
      if (i > begin) decompose(begin, i);
      if (i < cps.size()) out.push_back(cps[i]);
      begin = i + 1;
    }
  }
  return out;
}

std::string nfc(std::string_view utf8) {
  // Below U+0300 (the first combining mark) every text is already NFC.
  if (std::all_of(utf8.begin(), utf8.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0xCC; })) {
    return std::string(utf8);
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* composer = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) {
    throw Error(ErrorCode::internal,
                fmt::format("ICU NFC normaliser unavailable: {}", u_errorName(status)));
  }
  const icu::UnicodeString source = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<std::int32_t>(utf8.size())));
  const icu::UnicodeString composed = composer->normalize(source, status);
  if (U_FAILURE(status)) {
    throw Error(ErrorCode::internal,
                fmt::format("ICU NFC normalisation failed: {}", u_errorName(status)));
  }
  std::string out;
  composed.toUTF8String(out);
  return out;
}

void append_lowercase(std::vector<char32_t>& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
  } else if (cp == 0x130) {
    // The one unconditional multi-character lower-case mapping (SpecialCasing.txt).
    out.push_back(U'i');
    out.push_back(0x307);
  } else if ((category_mask(cp) & U_GC_CN_MASK) != 0) {
    char32_t lower = cp;
    for (const LowerRange& r : kNewLowercase) {
      if (cp >= r.first && cp <= r.last) lower = r.lower_of_first + (cp - r.first);
    }
    out.push_back(lower);
  } else {
    out.push_back(static_cast<char32_t>(u_tolower(static_cast<UChar32>(cp))));
  }
}

std::vector<TextPiece> split_on_atomic_tokens(std::string_view text,
                                              const std::vector<AtomicToken>& tokens) {
  std::array<bool, 256> first_byte{};
  for (const AtomicToken& t : tokens) {
    if (!t.text.empty()) first_byte[static_cast<unsigned char>(t.text[0])] = true;
  }
  std::vector<TextPiece> pieces;
  std::size_t plain_start = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (!first_byte[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const AtomicToken* best = nullptr;
    for (const AtomicToken& t : tokens) {
      if (!t.text.empty() && text.substr(pos).starts_with(t.text) &&
          (best == nullptr || t.text.size() > best->text.size())) {
        best = &t;
      }
    }
    if (best == nullptr) {
      ++pos;
      continue;
    }
    std::size_t plain_end = pos;
    if (best->lstrip) {
      while (plain_end > plain_start) {
        std::size_t p = plain_end - 1;
        while (p > plain_start && is_continuation(static_cast<unsigned char>(text[p]))) --p;
        std::size_t len = 0;
        if (!is_white_space(decode_valid(text, p, len))) break;
        plain_end = p;
      }
    }
    if (plain_end > plain_start) pieces.push_back({plain_start, plain_end, -1});
    pieces.push_back({pos, pos + best->text.size(), best->id});
    pos += best->text.size();
    if (best->rstrip) {
      while (pos < text.size()) {
        std::size_t len = 0;
        if (!is_white_space(decode_valid(text, pos, len))) break;
        pos += len;
      }
    }
    plain_start = pos;
  }
  if (text.size() > plain_start) pieces.push_back({plain_start, text.size(), -1});
  return pieces;
}

}  // namespace detail
MEZO_END_NAMESPACE
