// Comparing a tokenizer's ids with a reference fixture's (the committed JSON
// cases written from Hugging Face tokenizers by tools/make_*tokenizer_fixtures.py),
// and timing a tokenizer over the SST-2 training sentences.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mezo/text/tokenizer.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mezo_test {

// "[1,2,3]": ids as a failure message shows them.
inline std::string ids_string(const std::vector<std::int32_t>& ids) {
  std::string s = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

// Encodes the "string" of each of `cases` with `tok` and expects the ids
// `expected(case)` holds, failing once per mismatching case (named by `what`).
// `min_cases` guards against an empty or truncated fixture passing vacuously.
template <typename Expected>
void expect_ids_match(const mezo::Tokenizer& tok, const nlohmann::json& cases,
                      std::size_t min_cases, const std::string& what, Expected expected) {
  ASSERT_GT(cases.size(), min_cases) << what << ": the fixture has too few cases";
  int mismatches = 0;
  for (const auto& c : cases) {
    const std::string text = c["string"];
    const auto want = expected(c).template get<std::vector<std::int32_t>>();
    const auto got = tok.encode(text);
    if (got != want) {
      ++mismatches;
      ADD_FAILURE() << what << " mismatch for " << nlohmann::json(text).dump()
                    << "\n  expected (Hugging Face): " << ids_string(want)
                    << "\n  got:                     " << ids_string(got);
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// The sentences of SST-2's GLUE train.tsv under the shared data folder (the
// header dropped: 67,349 of them); empty when the file is absent.
inline std::vector<std::string> sst2_train_sentences(const std::filesystem::path& shared) {
  std::ifstream in(shared / "SST-2" / "glue" / "train.tsv");
  std::vector<std::string> sentences;
  std::string line;
  if (!std::getline(in, line)) return sentences;  // absent, or no header
  while (std::getline(in, line)) sentences.push_back(line.substr(0, line.find('\t')));
  return sentences;
}

struct EncodeTiming {
  std::size_t tokens = 0;
  double seconds = 0.0;
};

// Encodes every sentence with `tok`: how many tokens, and how long it took.
inline EncodeTiming encode_all(const mezo::Tokenizer& tok,
                               const std::vector<std::string>& sentences) {
  const auto start = std::chrono::steady_clock::now();
  EncodeTiming t;
  for (const auto& s : sentences) t.tokens += tok.encode(s).size();
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return t;
}

}  // namespace mezo_test
