// The GLUE TSV parser shared by read_labeled_tsv and the k-shot split, which
// needs each example's raw line to rewrite it byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"
#include "mezo/data/labeled_text.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// The header line every GLUE single-sentence file starts with.
inline constexpr std::string_view kGlueTsvHeader = "sentence\tlabel";

struct TsvLine {
  std::string_view raw;   // the whole line without its LF / CRLF ending
  std::string_view text;  // the sentence field (a prefix of raw)
  std::int32_t label = 0;
  std::size_t line_number = 0;  // 1-based, the header being line 1
};

// Parses and checks the bytes of a GLUE TSV (see read_labeled_tsv); `path`
// only names the file in error messages. The views point into `bytes`.
std::vector<TsvLine> parse_labeled_tsv(std::string_view bytes, const std::filesystem::path& path,
                                       const TsvOptions& options);

}  // namespace detail
MEZO_END_NAMESPACE
