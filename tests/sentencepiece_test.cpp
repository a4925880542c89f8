// The SentencePiece tokenizer (mezo::make_sentencepiece, src/text/
// sentencepiece.cpp: llama.cpp's SPM algorithm) and its GGUF loading, against
// tests/fixtures/spm_tokenizer_cases.json (tools/make_spm_tokenizer_fixtures.py):
// a tiny vocabulary trained with the sentencepiece library (its ids for
// llama.cpp's rule, byte fallback, control and user-defined pieces) and the
// real Gemma 3 270M vocabulary (262,144 pieces; ids from transformers'
// GemmaTokenizer on the same GGUF, whose counts llama.cpp confirmed), which
// skips when tools/fetch_model.sh gemma-3-270m has not fetched it. Also:
// decode, the GGUF keys and llama.cpp's defaults, and bad vocabularies.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mezo/error.hpp>
#include <mezo/io/gguf.hpp>
#include <mezo/text/tokenizer.hpp>
#include <nlohmann/json.hpp>

#include "real_model_support.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using Ids = std::vector<std::int32_t>;
using Metadata = std::vector<std::pair<std::string, mezo::GgufValue>>;

const nlohmann::json& fixture() {
  static const nlohmann::json json = [] {
    std::ifstream in(fs::path(MEZO_TEST_FIXTURES_DIR) / "spm_tokenizer_cases.json");
    EXPECT_TRUE(in) << "missing tests/fixtures/spm_tokenizer_cases.json";
    return nlohmann::json::parse(in);
  }();
  return json;
}

mezo::SentencePieceVocabulary tiny_vocabulary() {
  const auto& v = fixture().at("tiny").at("vocab");
  mezo::SentencePieceVocabulary vocab;
  vocab.tokens = v.at("tokens").get<std::vector<std::string>>();
  vocab.scores = v.at("scores").get<std::vector<float>>();
  vocab.token_types = v.at("token_types").get<std::vector<std::int32_t>>();
  vocab.special.unknown = v.at("unknown");
  vocab.special.begin = v.at("begin");
  vocab.special.end = v.at("end");
  vocab.special.add_begin = true;
  return vocab;
}

// Whether `text` holds a piece that stays whole (the space prefix after it
// makes decode(encode(text)) differ from text, as in llama.cpp).
bool has_whole_piece(const mezo::Tokenizer& tok, const std::string& text) {
  for (std::size_t id = 0; id < tok.vocab_size(); ++id) {
    const std::string piece = tok.id_to_token(static_cast<std::int32_t>(id));
    const bool whole = piece.size() > 2 && piece.front() == '<' && piece.back() == '>' &&
                       piece.rfind("<0x", 0) != 0;
    if ((whole || piece == "@@") && text.find(piece) != std::string::npos) return true;
  }
  return false;
}

void expect_cases(const mezo::Tokenizer& tok, const nlohmann::json& cases) {
  ASSERT_GT(cases.size(), 50u);
  for (const auto& c : cases) {
    const std::string text = c.at("string");
    EXPECT_EQ(tok.encode(text), c.at("ids").get<Ids>()) << nlohmann::json(text).dump();
  }
}

TEST(SentencePiece, TinyVocabularyGivesTheReferenceIds) {
  const auto tok = mezo::make_sentencepiece(tiny_vocabulary());
  expect_cases(*tok, fixture().at("tiny").at("cases"));
}

TEST(SentencePiece, DecodeUndoesEncodeOutsideWholePieces) {
  const auto tok = mezo::make_sentencepiece(tiny_vocabulary());
  int checked = 0;
  for (const auto& c : fixture().at("tiny").at("cases")) {
    const std::string text = c.at("string");
    if (has_whole_piece(*tok, text)) continue;
    EXPECT_EQ(tok->decode(tok->encode(text)), text) << nlohmann::json(text).dump();
    ++checked;
  }
  EXPECT_GT(checked, 50);
  // Whole pieces decode as their text, with the space prefix llama.cpp puts
  // after them; byte tokens as their bytes.
  EXPECT_EQ(tok->decode(tok->encode("x<s>y")), "x<s> y");
  EXPECT_EQ(tok->decode(Ids{tok->token_to_id("<0x0A>")}), "\n");
}

TEST(SentencePiece, ByteFallbackSpellsUnknownCharactersInBytes) {
  const auto tok = mezo::make_sentencepiece(tiny_vocabulary());
  // "€" (E2 82 AC) is no piece of the tiny vocabulary.
  const Ids ids = tok->encode("\xE2\x82\xAC");
  ASSERT_EQ(ids.size(), 4u);  // "▁", then three byte tokens
  EXPECT_EQ(tok->id_to_token(ids[1]), "<0xE2>");
  EXPECT_EQ(tok->id_to_token(ids[2]), "<0x82>");
  EXPECT_EQ(tok->id_to_token(ids[3]), "<0xAC>");
  // Without byte tokens, such a character is an error naming it.
  auto vocab = tiny_vocabulary();
  for (std::size_t i = 0; i < vocab.tokens.size(); ++i)
    if (vocab.token_types[i] == 6)
      vocab.tokens[i] = "byte" + std::to_string(i), vocab.token_types[i] = 1;
  const auto no_bytes = mezo::make_sentencepiece(std::move(vocab));
  EXPECT_CONTAINS(mezo_test::error_of([&] { no_bytes->encode("a\xE2\x82\xAC"); },
                                      mezo::ErrorCode::invalid_argument),
                  "no token for \"\xE2\x82\xAC\" and no byte token <0xE2>");
  EXPECT_CONTAINS(
      mezo_test::error_of([&] { tok->encode("bad \xFF byte"); }, mezo::ErrorCode::invalid_argument),
      "byte offset 4");
}

TEST(SentencePiece, NoSpacePrefixWhenTheVocabularySaysSo) {
  auto vocab = tiny_vocabulary();
  vocab.add_space_prefix = false;
  const auto tok = mezo::make_sentencepiece(std::move(vocab));
  const Ids ids = tok->encode("a b");
  ASSERT_FALSE(ids.empty());
  EXPECT_NE(tok->id_to_token(ids[0]).rfind("\xE2\x96\x81", 0), 0u) << "starts with ▁";
  EXPECT_EQ(tok->decode(ids), "a b");
}

Metadata tiny_metadata() {
  const auto vocab = tiny_vocabulary();
  return {{"general.architecture", mezo::GgufValue::of_string("llama")},
          {"tokenizer.ggml.model", mezo::GgufValue::of_string("llama")},
          {"tokenizer.ggml.tokens", mezo::GgufValue::of_strings(vocab.tokens)},
          {"tokenizer.ggml.scores", mezo::GgufValue::of_float32s(vocab.scores)},
          {"tokenizer.ggml.token_type", mezo::GgufValue::of_int32s(vocab.token_types)},
          {"tokenizer.ggml.bos_token_id", mezo::GgufValue::of_uint32(1)},
          {"tokenizer.ggml.eos_token_id", mezo::GgufValue::of_uint32(2)},
          {"tokenizer.ggml.unknown_token_id", mezo::GgufValue::of_uint32(0)}};
}

fs::path write(const mezo_test::TempDir& dir, const std::string& name, const Metadata& metadata) {
  const fs::path path = dir.path() / name;
  mezo::write_gguf(path, metadata, {});
  return path;
}

TEST(SentencePiece, ReadFromGguf) {
  mezo_test::TempDir dir;
  const auto tok = mezo::load_tokenizer(write(dir, "tiny.gguf", tiny_metadata()));
  expect_cases(*tok, fixture().at("tiny").at("cases"));
  EXPECT_EQ(tok->special_tokens().begin, 1);
  EXPECT_EQ(tok->special_tokens().end, 2);
  EXPECT_EQ(tok->special_tokens().unknown, 0);
  EXPECT_TRUE(tok->special_tokens().add_begin);  // llama.cpp's default for SPM
  // add_space_prefix and add_bos_token as the file says.
  Metadata m = tiny_metadata();
  m.emplace_back("tokenizer.ggml.add_space_prefix", mezo::GgufValue::of_bool(false));
  m.emplace_back("tokenizer.ggml.add_bos_token", mezo::GgufValue::of_bool(false));
  const auto plain = mezo::load_tokenizer(write(dir, "plain.gguf", m));
  EXPECT_FALSE(plain->special_tokens().add_begin);
  EXPECT_EQ(plain->decode(plain->encode("a b")), "a b");
  EXPECT_NE(plain->encode("a b"), tok->encode("a b"));
}

TEST(SentencePiece, BadVocabulariesAreClearErrors) {
  mezo_test::TempDir dir;
  const auto error = [&](const Metadata& m) {
    return mezo_test::error_of([&] { mezo::load_tokenizer(write(dir, "bad.gguf", m)); },
                               mezo::ErrorCode::invalid_format);
  };
  const auto with = [](Metadata m, const std::string& key, mezo::GgufValue value) {
    for (auto& [k, v] : m)
      if (k == key) v = std::move(value);
    return m;
  };
  auto vocab = tiny_vocabulary();
  auto tokens = vocab.tokens;
  tokens[10] = tokens[11];
  EXPECT_CONTAINS(
      error(with(tiny_metadata(), "tokenizer.ggml.tokens", mezo::GgufValue::of_strings(tokens))),
      "token 11 (\"<0x05>\") repeats token 10");
  tokens = vocab.tokens;
  tokens[6] = "<0xZZ>";
  EXPECT_CONTAINS(
      error(with(tiny_metadata(), "tokenizer.ggml.tokens", mezo::GgufValue::of_strings(tokens))),
      "token 6 is a byte token but reads \"<0xZZ>\"");
  auto scores = vocab.scores;
  scores.pop_back();
  EXPECT_CONTAINS(
      error(with(tiny_metadata(), "tokenizer.ggml.scores", mezo::GgufValue::of_float32s(scores))),
      "tokenizer.ggml.scores has 599 entries for 600 tokens");
  auto types = vocab.token_types;
  types[20] = 9;
  EXPECT_CONTAINS(
      error(with(tiny_metadata(), "tokenizer.ggml.token_type", mezo::GgufValue::of_int32s(types))),
      "tokenizer.ggml.token_type[20] is 9");
  EXPECT_CONTAINS(
      error(with(tiny_metadata(), "tokenizer.ggml.bos_token_id", mezo::GgufValue::of_uint32(600))),
      "tokenizer.ggml.bos_token_id is 600, beyond the 600 tokens");
  EXPECT_CONTAINS(mezo_test::error_of(
                      [&] {
                        mezo::load_tokenizer(write(dir, "t5.gguf",
                                                   with(tiny_metadata(), "tokenizer.ggml.model",
                                                        mezo::GgufValue::of_string("t5"))));
                      },
                      mezo::ErrorCode::unsupported),
                  "tokenizer.ggml.model is \"t5\"");
}

// The real vocabulary: 262,144 pieces, thousands of them whole (control,
// user-defined runs of spaces and HTML tags), no space prefix.
TEST(SentencePiece, Gemma3GivesTransformersIds) {
  REQUIRE_GEMMA3_GGUF(path);
  const auto tok = mezo::load_tokenizer(path);
  EXPECT_EQ(tok->vocab_size(), 262144u);
  EXPECT_EQ(tok->special_tokens().begin, 2);
  EXPECT_TRUE(tok->special_tokens().add_begin);
  ASSERT_TRUE(fixture().contains("gemma3")) << "the fixture has no gemma3 cases";
  expect_cases(*tok, fixture().at("gemma3").at("cases"));
  for (const auto& c : fixture().at("gemma3").at("cases")) {
    const std::string text = c.at("string");
    if (text.find('<') == std::string::npos)  // no whole pieces: no space prefix either
      EXPECT_EQ(tok->decode(tok->encode(text)), text) << nlohmann::json(text).dump();
  }
}

}  // namespace
