#include "text/pre_tokenizers.hpp"

#include <fmt/format.h>

#include "mezo/error.hpp"
#include "text/unicode.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

enum Class : unsigned char { kSpace, kLetter, kNumber, kOther };

std::vector<unsigned char> classify(const std::vector<char32_t>& cps) {
  std::vector<unsigned char> cls(cps.size());
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t c = cps[i];
    cls[i] = detail::is_white_space(c) ? kSpace
             : detail::is_letter(c)    ? kLetter
             : detail::is_number(c)    ? kNumber
                                       : kOther;
  }
  return cls;
}

// The length (2 or 3) of a contraction 's 't 're 've 'm 'll 'd at cps[i], or 0.
// GPT-2's regex is case-sensitive; Llama 3's (?i:...) is applied by llama.cpp
// as '[sS]|'[tT]|..., i.e. to ASCII letters of either case.
std::size_t contraction_at(const std::vector<char32_t>& cps, std::size_t i, std::size_t end,
                           bool any_case) {
  if (cps[i] != U'\'' || i + 1 >= end) return 0;
  const auto lower = [&](char32_t c) {
    return any_case && c >= U'A' && c <= U'Z' ? c + (U'a' - U'A') : c;
  };
  const char32_t c1 = lower(cps[i + 1]);
  if (c1 == U's' || c1 == U't' || c1 == U'm' || c1 == U'd') return 2;
  if (i + 2 >= end) return 0;
  const char32_t c2 = lower(cps[i + 2]);
  if ((c1 == U'r' && c2 == U'e') || (c1 == U'v' && c2 == U'e') || (c1 == U'l' && c2 == U'l')) {
    return 3;
  }
  return 0;
}

// The end of the run of class `k` starting at `i`.
std::size_t run_end(const std::vector<unsigned char>& cls, std::size_t i, std::size_t end,
                    unsigned char k) {
  while (i < end && cls[i] == k) ++i;
  return i;
}

// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// over cps[begin, end).
void gpt2(const std::vector<char32_t>& cps, const std::vector<unsigned char>& cls,
          std::size_t begin, std::size_t end, detail::PieceRanges& out) {
  std::size_t i = begin;
  while (i < end) {
    if (const std::size_t len = contraction_at(cps, i, end, false)) {
      out.emplace_back(i, i + len);
      i += len;
      continue;
    }
    // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+'.
    const std::size_t j = cps[i] == U' ' ? i + 1 : i;
    if (j < end && cls[j] != kSpace) {
      const std::size_t e = run_end(cls, j, end, cls[j]);
      out.emplace_back(i, e);
      i = e;
      continue;
    }
    // '\s+(?!\S)' then '\s+': a whitespace run, leaving its last character to
    // the next piece when a non-space follows and the run is longer than one.
    std::size_t e = run_end(cls, i, end, kSpace);
    if (e < end && e - i >= 2) --e;
    out.emplace_back(i, e);
    i = e;
  }
}

// SmolLM2 (llama.cpp's "smollm", Hugging Face's Sequence[Digits(individual),
// ByteLevel]): every \p{N} alone, then GPT-2 on the runs between.
void smollm(const std::vector<char32_t>& cps, const std::vector<unsigned char>& cls,
            detail::PieceRanges& out) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < cps.size(); ++i) {
    if (cls[i] != kNumber) continue;
    gpt2(cps, cls, start, i, out);
    out.emplace_back(i, i + 1);
    start = i + 1;
  }
  gpt2(cps, cls, start, cps.size(), out);
}

bool is_cr_lf(char32_t c) { return c == U'\r' || c == U'\n'; }

// Llama 3 (max_digits 3) and Qwen2 (max_digits 1):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}|
//    ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// Alternatives are tried in order at each position, as the regex does.
void llama3(const std::vector<char32_t>& cps, const std::vector<unsigned char>& cls,
            std::size_t max_digits, detail::PieceRanges& out) {
  const std::size_t n = cps.size();
  std::size_t i = 0;
  while (i < n) {
    const auto emit = [&](std::size_t e) {
      out.emplace_back(i, e);
      i = e;
    };
    if (const std::size_t len = contraction_at(cps, i, n, true)) {
      emit(i + len);
      continue;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (cls[i] == kLetter) {
      emit(run_end(cls, i, n, kLetter));
      continue;
    }
    if (cls[i] != kNumber && !is_cr_lf(cps[i]) && i + 1 < n && cls[i + 1] == kLetter) {
      emit(run_end(cls, i + 1, n, kLetter));
      continue;
    }
    // \p{N}{1,max_digits}
    if (cls[i] == kNumber) {
      std::size_t e = i + 1;
      while (e < n && e - i < max_digits && cls[e] == kNumber) ++e;
      emit(e);
      continue;
    }
    //  ?[^\s\p{L}\p{N}]+[\r\n]*
    const std::size_t j = cps[i] == U' ' ? i + 1 : i;
    if (j < n && cls[j] == kOther) {
      std::size_t e = run_end(cls, j, n, kOther);
      while (e < n && is_cr_lf(cps[e])) ++e;
      emit(e);
      continue;
    }
    // Only whitespace is left at cps[i]. \s*[\r\n]+: up to the last \r or \n of
    // the whitespace run (\s* backtracks from the run's end to it).
    const std::size_t e = run_end(cls, i, n, kSpace);
    std::size_t last_newline = e;
    for (std::size_t k = e; k > i; --k) {
      if (is_cr_lf(cps[k - 1])) {
        last_newline = k - 1;
        break;
      }
    }
    if (last_newline < e) {
      emit(last_newline + 1);
      continue;
    }
    // \s+(?!\S) then \s+, as in GPT-2.
    emit(e < n && e - i >= 2 ? e - 1 : e);
  }
}

}  // namespace

BpePreTokenizer parse_bpe_pre_tokenizer(std::string_view name) {
  if (name == "gpt-2" || name == "gpt2") return BpePreTokenizer::gpt2;
  if (name == "smollm") return BpePreTokenizer::smollm;
  if (name == "llama-bpe" || name == "llama3" || name == "llama-v3") return BpePreTokenizer::llama3;
  if (name == "qwen2") return BpePreTokenizer::qwen2;
  throw Error(ErrorCode::unsupported,
              fmt::format("byte-level BPE pre-tokenizer \"{}\" is not supported; libmezo knows "
                          "\"gpt-2\" (or \"gpt2\"), \"smollm\", \"llama-bpe\" (or \"llama3\", "
                          "\"llama-v3\") and \"qwen2\"",
                          name));
}

const char* to_string(BpePreTokenizer pre) noexcept {
  switch (pre) {
    case BpePreTokenizer::gpt2:
      return "gpt-2";
    case BpePreTokenizer::smollm:
      return "smollm";
    case BpePreTokenizer::llama3:
      return "llama-bpe";
    case BpePreTokenizer::qwen2:
      return "qwen2";
  }
  return "unknown";
}

namespace detail {

void pre_tokenize(BpePreTokenizer pre, const std::vector<char32_t>& cps, PieceRanges& out) {
  const std::vector<unsigned char> cls = classify(cps);
  switch (pre) {
    case BpePreTokenizer::gpt2:
      gpt2(cps, cls, 0, cps.size(), out);
      return;
    case BpePreTokenizer::smollm:
      smollm(cps, cls, out);
      return;
    case BpePreTokenizer::llama3:
      llama3(cps, cls, 3, out);
      return;
    case BpePreTokenizer::qwen2:
      llama3(cps, cls, 1, out);
      return;
  }
  throw Error(
      ErrorCode::invalid_argument,
      fmt::format("pre-tokenizer value {} is not a BpePreTokenizer", static_cast<int>(pre)));
}

}  // namespace detail
MEZO_END_NAMESPACE
