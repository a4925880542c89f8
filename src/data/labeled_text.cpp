#include "mezo/data/labeled_text.hpp"

#include <fmt/format.h>

#include <charconv>
#include <string>
#include <string_view>
#include <system_error>

#include "data/tsv_parse.hpp"
#include "file_io.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {
namespace {

[[noreturn]] void throw_at(const std::filesystem::path& path, std::size_t line,
                           const std::string& what) {
  throw Error(ErrorCode::invalid_format, fmt::format("{}, line {}: {}", path.string(), line, what));
}

// `s` for a message: printable ASCII as is, tab as \t, other bytes as \xNN,
// cut after 60 bytes.
std::string quoted(std::string_view s) {
  constexpr std::size_t kMax = 60;
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\t') {
      out += "\\t";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  out += s.size() > kMax ? "'..." : "'";
  return out;
}

// The offset of the first byte of `s` that does not start a valid UTF-8
// sequence (overlong forms, surrogates, code points above U+10FFFF and
// truncated sequences are invalid), or npos; `reason` says what is wrong.
std::size_t find_invalid_utf8(std::string_view s, const char*& reason) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      len = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      len = 3;
      if (b0 == 0xe0) lo = 0xa0;  // overlong
      if (b0 == 0xed) hi = 0x9f;  // surrogates
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      len = 4;
      if (b0 == 0xf0) lo = 0x90;  // overlong
      if (b0 == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      reason = b0 < 0xc0   ? "a continuation byte where a character should start"
               : b0 < 0xc2 ? "an overlong two-byte sequence"
                           : "a byte that never occurs in UTF-8";
      return i;
    }
    if (i + len > s.size()) {
      reason = "a sequence truncated by the end of the field";
      return i;
    }
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      const unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xbf;
      if (b < min || b > max) {
        reason = k == 1 && (b >= 0x80 && b <= 0xbf)
                     ? "an overlong sequence, a surrogate or a code point above U+10FFFF"
                     : "a truncated multi-byte sequence";
        return i;
      }
    }
    i += len;
  }
  return std::string_view::npos;
}

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_blank(std::string_view s) {
  for (char c : s)
    if (!is_ascii_space(c)) return false;
  return true;
}

}  // namespace

std::vector<TsvLine> parse_labeled_tsv(std::string_view bytes, const std::filesystem::path& path,
                                       const TsvOptions& options) {
  if (options.num_labels < 1)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("reading {}: TsvOptions::num_labels must be at least 1, got {}",
                            path.string(), options.num_labels));
  if (bytes.empty())
    throw Error(ErrorCode::invalid_format,
                fmt::format("{}: the file is empty: no header and no examples", path.string()));

  std::vector<TsvLine> lines;
  std::size_t pos = 0;
  std::size_t number = 0;
  while (pos < bytes.size()) {
    ++number;
    const std::size_t line_start = pos;
    std::size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos) {
      end = bytes.size();
      pos = end;
    } else {
      pos = end + 1;
    }
    std::string_view raw = bytes.substr(line_start, end - line_start);
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (raw.find('\r') != std::string_view::npos)
      throw_at(path, number,
               fmt::format("a carriage return at byte offset {} of the line that does not end it "
                           "(only LF and CRLF line endings are accepted)",
                           raw.find('\r')));

    if (number == 1) {
      if (raw != kGlueTsvHeader)
        throw_at(path, number,
                 fmt::format("expected the header 'sentence\\tlabel' naming the columns, found {}",
                             quoted(raw)));
      continue;
    }

    const char* reason = nullptr;
    if (const std::size_t bad = find_invalid_utf8(raw, reason); bad != std::string_view::npos)
      throw_at(path, number,
               fmt::format("invalid UTF-8 at byte offset {} of the line (byte {} of the file): {}",
                           bad, line_start + bad, reason));
    if (raw.empty()) throw_at(path, number, "the line is empty, expected sentence<TAB>label");

    std::size_t fields = 1;
    for (char c : raw) fields += c == '\t' ? 1 : 0;
    if (fields != 2)
      throw_at(path, number,
               fmt::format("{} tab-separated field{}, expected 2 (sentence<TAB>label): {}", fields,
                           fields == 1 ? "" : "s", quoted(raw)));

    const std::size_t tab = raw.find('\t');
    const std::string_view text = raw.substr(0, tab);
    const std::string_view label_field = raw.substr(tab + 1);
    if (label_field.empty())
      throw_at(path, number, "the label field is empty, expected an integer");
    std::int32_t label = 0;
    const char* const label_end = label_field.data() + label_field.size();
    const auto [ptr, ec] = std::from_chars(label_field.data(), label_end, label);
    const bool whole = ptr == label_end;
    if (ec == std::errc::result_out_of_range && whole)
      throw_at(path, number,
               fmt::format("label {} is out of range: labels must be integers in [0, {})",
                           quoted(label_field), options.num_labels));
    if (ec != std::errc() || !whole)
      throw_at(path, number, fmt::format("label {} is not an integer", quoted(label_field)));
    // Canonical decimal only: LM-BFF groups lines by the label's text, so
    // "01" and "1" would be two classes there.
    if (fmt::format("{}", label) != label_field)
      throw_at(path, number,
               fmt::format("label {} is not written as a plain integer (no sign on 0, no "
                           "leading zeros)",
                           quoted(label_field)));
    if (label < 0 || label >= options.num_labels)
      throw_at(path, number,
               fmt::format("label {} is out of range: labels must be integers in [0, {})", label,
                           options.num_labels));
    if (is_blank(text))
      throw_at(path, number,
               fmt::format("the sentence is empty{}", text.empty() ? "" : " (only whitespace)"));

    lines.push_back(TsvLine{raw, text, label, number});
  }
  if (lines.empty())
    throw Error(ErrorCode::invalid_format,
                fmt::format("{}: no examples: the file has the header line and nothing else",
                            path.string()));
  return lines;
}

}  // namespace detail

std::vector<LabeledExample> read_labeled_tsv(const std::filesystem::path& path,
                                             const TsvOptions& options) {
  const std::string bytes = detail::read_file(path);
  const std::vector<detail::TsvLine> lines = detail::parse_labeled_tsv(bytes, path, options);
  std::vector<LabeledExample> examples;
  examples.reserve(lines.size());
  for (const detail::TsvLine& line : lines)
    examples.push_back(LabeledExample{std::string(line.text), line.label});
  return examples;
}

MEZO_END_NAMESPACE
