// Decoder prompts (examples/sst2/causal_prompt.hpp): "{sentence} It was" then
// a candidate, a begin token only when the tokenizer adds one, the sentence
// cut from the tail to leave room for the longest candidate, template errors.
#include "causal_prompt.hpp"

#include <gtest/gtest.h>

#include "mezo/error.hpp"
#include "mezo/text/tokenizer.hpp"
#include "test_support.hpp"

namespace {

using mezo_test::byte_token;

// The 256 byte tokens (ids 0..255), then whole words: " It" 256, " was" 257,
// " great" 258, " terrible" 259, "<s>" 260 (begin).
std::unique_ptr<mezo::Tokenizer> tokenizer(bool add_begin) {
  mezo::ByteLevelBpeVocabulary v;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(byte_token(b));
  for (const char* w : {"ĠIt", "Ġwas", "Ġgreat", "Ġterrible", "<s>"}) v.tokens.push_back(w);
  v.token_types.assign(v.tokens.size(), 1);
  v.token_types[260] = 3;  // control
  v.ignore_merges = true;  // a word that is a token is that token
  v.special.begin = 260;
  v.special.add_begin = add_begin;
  return mezo::make_byte_level_bpe(std::move(v));
}

std::vector<std::int32_t> bytes(const std::string& s) {
  return std::vector<std::int32_t>(s.begin(), s.end());
}

TEST(CausalPrompt, DefaultPromptAndCandidates) {
  const auto tok = tokenizer(false);
  const sst2::CausalPrompt prompt(*tok, {});
  EXPECT_EQ(prompt.template_text(), "{sentence} It was");
  EXPECT_EQ(prompt.label_words(), (std::vector<std::string>{" terrible", " great"}));
  EXPECT_EQ(prompt.candidates(), (std::vector<std::vector<std::int32_t>>{{259}, {258}}));
  // SST-2's trailing space before the tab is trimmed; no begin token.
  const auto e = prompt.encode({"ab ", 1});
  EXPECT_EQ(e.ids, (std::vector<std::int32_t>{'a', 'b', 256, 257}));
  EXPECT_EQ(e.query_position, 3);
  EXPECT_EQ(e.label, 1);
}

TEST(CausalPrompt, BeginTokenOnlyWhenTheTokenizerAddsIt) {
  const auto tok = tokenizer(true);
  const auto e = sst2::CausalPrompt(*tok, {}).encode({"ab", 0});
  EXPECT_EQ(e.ids, (std::vector<std::int32_t>{260, 'a', 'b', 256, 257}));
  EXPECT_EQ(e.query_position, 4);
}

TEST(CausalPrompt, MultiTokenCandidatesAndTailTruncation) {
  const auto tok = tokenizer(false);
  // " fab" is 4 byte tokens: with max length 10 the sentence gets
  // 10 - 2 (" It was") - 4 = 4 tokens.
  const sst2::CausalPrompt prompt(*tok, {.template_text = "{sentence} It was{mask}",
                                         .label_words = {" fab", " great"},
                                         .max_length = 10});
  EXPECT_EQ(prompt.candidates()[0], bytes(" fab"));
  EXPECT_EQ(prompt.candidates()[1], (std::vector<std::int32_t>{258}));
  const auto e = prompt.encode({"abcdefgh", 0});
  auto expected = bytes("abcd");
  expected.insert(expected.end(), {256, 257});
  EXPECT_EQ(e.ids, expected);
  EXPECT_EQ(e.query_position, 5);
}

TEST(CausalPrompt, TextBeforeTheSentence) {
  const auto tok = tokenizer(false);
  const auto e =
      sst2::CausalPrompt(*tok, {.template_text = "R:{sentence} It was"}).encode({"x", 0});
  EXPECT_EQ(e.ids, (std::vector<std::int32_t>{'R', ':', 'x', 256, 257}));
}

TEST(CausalPrompt, BadTemplatesAndWordsAreErrors) {
  const auto tok = tokenizer(false);
  const auto error = [&](sst2::PromptOptions o) {
    try {
      sst2::CausalPrompt p(*tok, std::move(o));
    } catch (const mezo::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error({.template_text = "It was"}).find("must contain {sentence}"), std::string::npos);
  EXPECT_NE(error({.template_text = "{sentence} It {mask} was"}).find("may only come last"),
            std::string::npos);
  EXPECT_NE(error({.template_text = "{mask}{sentence}"}).find("may only come last"),
            std::string::npos);
  EXPECT_NE(error({.label_words = {"", " great"}}).find("has no tokens"), std::string::npos);
  EXPECT_NE(error({.max_length = 3}).find("leaves no room for the sentence"), std::string::npos);
}

}  // namespace
