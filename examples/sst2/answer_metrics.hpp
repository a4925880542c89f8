// Exact match and F1 of a generated answer against the gold answers, as the
// official SQuAD v1.1 evaluation script computes them (and the MeZO reference
// code's metrics.py, which copies it): both texts are normalised — lower
// case, ASCII punctuation (Python's string.punctuation) removed, the words
// "a", "an", "the" removed, whitespace collapsed — then EM is 1 when the
// normalised texts are equal, and F1 the harmonic mean of the precision and
// recall of their shared words (counted with multiplicity); each is the
// maximum over the gold answers. Where the script works on Unicode this works
// on bytes: lower-casing is ASCII only, whitespace is ASCII whitespace, and
// every non-ASCII byte counts as a word character for the article rule (so
// "—the" keeps its "the"). Answers that differ from their gold only there
// score otherwise than the official script gives.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sst2 {

std::string normalize_answer(std::string_view text);

// Both 0 for empty `golds`.
double exact_match(std::string_view prediction, const std::vector<std::string>& golds);
double answer_f1(std::string_view prediction, const std::vector<std::string>& golds);

}  // namespace sst2
