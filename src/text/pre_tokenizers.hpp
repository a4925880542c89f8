// The byte-level BPE pre-tokenizers (include/mezo/text/tokenizer.hpp lists
// their regexes): each a hand-written left-to-right scan over code points that
// gives the pieces the regex would, so no regex engine is needed.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "mezo/config.hpp"
#include "mezo/text/tokenizer.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// Code-point ranges [first, second) of the pieces, in order, covering the text.
using PieceRanges = std::vector<std::pair<std::size_t, std::size_t>>;

// Appends the pieces `pre` cuts `cps` into.
void pre_tokenize(BpePreTokenizer pre, const std::vector<char32_t>& cps, PieceRanges& out);

}  // namespace detail
MEZO_END_NAMESPACE
