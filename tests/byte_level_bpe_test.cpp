// Byte-level BPE for decoder LMs (SmolLM2, Llama 3, Qwen2): ids equal to
// llama.cpp's known ids and to Hugging Face tokenizers' on the committed
// fixture (tools/make_decoder_tokenizer_fixtures.py), with the real SmolLM2
// vocabulary read from its GGUF (skipped without it) and with the tiny
// committed tokenizer.json files; each pre-tokenizer's rules on vocabularies
// built here; decode; GGUF and tokenizer.json loading and their errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mezo/error.hpp>
#include <mezo/io/gguf.hpp>
#include <mezo/text/tokenizer.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "real_model_support.hpp"
#include "test_support.hpp"
#include "tokenizer_test_support.hpp"

namespace fs = std::filesystem;
using Ids = std::vector<std::int32_t>;
using mezo::BpePreTokenizer;

using mezo::ErrorCode;
using mezo_test::byte_token;
using mezo_test::encode_all;
using mezo_test::EncodeTiming;
using mezo_test::error_of;
using mezo_test::sst2_train_sentences;
using mezo_test::TempDir;
using mezo_test::write_bytes;

namespace {

const fs::path kFixtures = MEZO_TEST_FIXTURES_DIR;
const fs::path kShared = MEZO_SHARED_DATA_DIR;
constexpr BpePreTokenizer kAllPre[] = {BpePreTokenizer::gpt2, BpePreTokenizer::smollm,
                                       BpePreTokenizer::llama3, BpePreTokenizer::qwen2};

// The fixture's name of a pre-tokenizer.
std::string key_of(BpePreTokenizer pre) {
  switch (pre) {
    case BpePreTokenizer::gpt2:
      return "gpt2";
    case BpePreTokenizer::smollm:
      return "smollm";
    case BpePreTokenizer::llama3:
      return "llama3";
    case BpePreTokenizer::qwen2:
      return "qwen2";
  }
  return "?";
}

const nlohmann::json& fixture() {
  static const nlohmann::json json = [] {
    std::ifstream in(kFixtures / "decoder_tokenizer_cases.json");
    EXPECT_TRUE(in) << "missing tests/fixtures/decoder_tokenizer_cases.json";
    return nlohmann::json::parse(in);
  }();
  return json;
}

// Compares tok's ids with the fixture's `select(case)` for every case.
template <typename Select>
void expect_fixture_matches(const mezo::Tokenizer& tok, const std::string& what, Select select) {
  mezo_test::expect_ids_match(tok, fixture()["cases"], 100, what, select);
}

// decode(encode(s)) == s for every fixture string (no normaliser in the way)
// but those containing `skip`.
void expect_round_trip(const mezo::Tokenizer& tok, const std::string& skip = "\xFF") {
  for (const auto& c : fixture()["cases"]) {
    const std::string text = c["string"];
    if (text.find(skip) != std::string::npos) continue;
    EXPECT_EQ(tok.decode(tok.encode(text)), text) << nlohmann::json(text).dump();
  }
}

std::string spelled(const std::string& bytes) {
  std::string s;
  for (const unsigned char b : bytes) s += byte_token(b);
  return s;
}

// A vocabulary of the 256 byte tokens (ids 0..255) and `words` after them.
mezo::ByteLevelBpeVocabulary byte_vocabulary(BpePreTokenizer pre,
                                             const std::vector<std::string>& words = {}) {
  mezo::ByteLevelBpeVocabulary v;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(byte_token(b));
  for (const auto& w : words) v.tokens.push_back(spelled(w));
  v.pre = pre;
  return v;
}

// `text` must be cut into exactly `pieces`: each piece is made a whole token
// (ignore_merges), so another cut shows up as byte ids instead.
void expect_pieces(BpePreTokenizer pre, const std::string& text,
                   const std::vector<std::string>& pieces) {
  auto vocab = byte_vocabulary(pre);
  Ids expected;
  for (const auto& piece : pieces) {
    const std::string token = spelled(piece);
    std::int32_t id = -1;
    for (std::size_t i = 0; i < vocab.tokens.size(); ++i) {
      if (vocab.tokens[i] == token) id = static_cast<std::int32_t>(i);
    }
    if (id < 0) {
      id = static_cast<std::int32_t>(vocab.tokens.size());
      vocab.tokens.push_back(token);
    }
    expected.push_back(id);
  }
  vocab.ignore_merges = true;
  const auto tok = mezo::make_byte_level_bpe(std::move(vocab));
  EXPECT_EQ(tok->encode(text), expected)
      << mezo::to_string(pre) << " cut of " << nlohmann::json(text).dump();
}

std::vector<std::pair<std::string, mezo::GgufValue>> smollm_like_metadata() {
  // Bytes, then "Ġt" "he" "Ġthe", two control tokens and "12".
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(byte_token(b));
  for (const char* t : {"Ġt", "he", "Ġthe", "<|im_start|>", "<|im_end|>", "12"})
    tokens.push_back(t);
  std::vector<std::int32_t> types(tokens.size(), 1);
  types[259] = types[260] = 3;
  return {{"general.architecture", mezo::GgufValue::of_string("llama")},
          {"tokenizer.ggml.model", mezo::GgufValue::of_string("gpt2")},
          {"tokenizer.ggml.pre", mezo::GgufValue::of_string("smollm")},
          {"tokenizer.ggml.tokens", mezo::GgufValue::of_strings(tokens)},
          {"tokenizer.ggml.token_type", mezo::GgufValue::of_int32s(types)},
          {"tokenizer.ggml.merges", mezo::GgufValue::of_strings({"Ġ t", "h e", "Ġt he", "1 2"})},
          {"tokenizer.ggml.bos_token_id", mezo::GgufValue::of_uint32(259)},
          {"tokenizer.ggml.eos_token_id", mezo::GgufValue::of_uint32(260)},
          {"tokenizer.ggml.padding_token_id", mezo::GgufValue::of_uint32(260)},
          {"tokenizer.ggml.add_bos_token", mezo::GgufValue::of_bool(false)}};
}

fs::path write_gguf(const TempDir& dir, const std::string& name,
                    const std::vector<std::pair<std::string, mezo::GgufValue>>& metadata) {
  const fs::path path = dir.path() / name;
  mezo::write_gguf(path, metadata, {});
  return path;
}

void set(std::vector<std::pair<std::string, mezo::GgufValue>>& metadata, const std::string& key,
         mezo::GgufValue value) {
  for (auto& [k, v] : metadata) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata.emplace_back(key, std::move(value));
}

void remove_key(std::vector<std::pair<std::string, mezo::GgufValue>>& metadata,
                const std::string& key) {
  std::erase_if(metadata, [&](const auto& kv) { return kv.first == key; });
}

// ---------------------------------------------------------------------------
// The real SmolLM2 vocabulary, from its GGUF.

TEST(SmolLM2Tokenizer, MatchesLlamaCppKnownIds) {
  REQUIRE_SMOLLM2_GGUF(gguf);
  const auto tok = mezo::load_tokenizer(gguf);
  for (const auto& k : fixture()["known_llama_cpp"]) {
    EXPECT_EQ(tok->encode(k["string"].get<std::string>()), k["ids"].get<Ids>())
        << k["string"].dump();
  }
  EXPECT_EQ(tok->vocab_size(), 49152u);
  EXPECT_EQ(tok->token_to_id("Ġgreat"), 1109);
  EXPECT_EQ(tok->id_to_token(13321), "Ġterrible");
  const mezo::SpecialTokens& s = tok->special_tokens();
  EXPECT_EQ(s.begin, 1);
  EXPECT_EQ(s.end, 2);
  EXPECT_EQ(s.pad, 2);
  EXPECT_EQ(s.unknown, 0);
  EXPECT_EQ(s.mask, -1);
  EXPECT_FALSE(s.add_begin);
  EXPECT_EQ(tok->encode("<|im_start|>user\nhi<|im_end|>").front(), 1);
  EXPECT_EQ(tok->decode(Ids{1, 4093, 198}), "<|im_start|>user\n");
}

TEST(SmolLM2Tokenizer, GgufMatchesHuggingFaceOnFixture) {
  REQUIRE_SMOLLM2_GGUF(gguf);
  const auto tok = mezo::load_gguf_tokenizer(mezo::GgufFile::open(gguf));
  expect_fixture_matches(*tok, "smollm", [](const auto& c) { return c["smollm"]; });
  expect_round_trip(*tok);
}

// Llama 3's and Qwen2's pre-tokenizers on the SmolLM2 vocabulary: the fixture
// holds Hugging Face's ids for the same vocabulary under their Split regexes.
TEST(SmolLM2Tokenizer, Llama3AndQwen2PreTokenizersMatchHuggingFace) {
  REQUIRE_SMOLLM2_GGUF(gguf);
  const mezo::GgufFile file = mezo::GgufFile::open(gguf);
  for (const BpePreTokenizer pre : {BpePreTokenizer::llama3, BpePreTokenizer::qwen2}) {
    mezo::ByteLevelBpeVocabulary v;
    v.tokens = file.get_strings("tokenizer.ggml.tokens");
    v.merges = file.get_strings("tokenizer.ggml.merges");
    for (const auto t : file.get_integers("tokenizer.ggml.token_type")) {
      v.token_types.push_back(static_cast<std::int32_t>(t));
    }
    v.pre = pre;
    v.ignore_merges = pre == BpePreTokenizer::llama3;
    const auto tok = mezo::make_byte_level_bpe(std::move(v));
    const std::string key = key_of(pre);
    expect_fixture_matches(*tok, key, [&](const auto& c) { return c[key]; });
    expect_round_trip(*tok);
  }
}

// The SmolLM2 vocabulary as a Hugging Face tokenizer.json, which the fixture
// script writes beside the GGUF (not committed: 2 MB).
TEST(SmolLM2Tokenizer, HfTokenizerJsonMatchesHuggingFace) {
  REQUIRE_SMOLLM2_GGUF(gguf);
  const fs::path json = gguf.parent_path() / "hf-tokenizer" / "tokenizer.json";
  if (!fs::is_regular_file(json)) {
    GTEST_SKIP() << json << " not found; tools/make_decoder_tokenizer_fixtures.py writes it";
  }
  const auto tok = mezo::load_tokenizer(json.parent_path());
  expect_fixture_matches(*tok, "smollm (tokenizer.json)",
                         [](const auto& c) { return c["smollm"]; });
  const mezo::SpecialTokens& s = tok->special_tokens();
  EXPECT_EQ(s.begin, 1);
  EXPECT_EQ(s.end, 2);
  EXPECT_EQ(s.pad, 2);
  EXPECT_EQ(s.unknown, 0);
  EXPECT_FALSE(s.add_begin);
}

TEST(SmolLM2Tokenizer, EncodesSst2TrainQuickly) {
  REQUIRE_SMOLLM2_GGUF(gguf);
  const auto sentences = sst2_train_sentences(kShared);
  if (sentences.empty()) GTEST_SKIP() << "SST-2 glue/train.tsv not found under " << kShared;
  const auto start_load = std::chrono::steady_clock::now();
  const auto tok = mezo::load_tokenizer(gguf);
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_load).count();
  const EncodeTiming t = encode_all(*tok, sentences);
  std::cout << "[ timing   ] SmolLM2 GGUF tokenizer: loaded in " << load_s << " s; "
            << sentences.size() << " SST-2 train sentences, " << t.tokens << " tokens in "
            << t.seconds << " s\n";
  EXPECT_GT(t.tokens, sentences.size());
  EXPECT_LT(t.seconds, 60.0);
}

// ---------------------------------------------------------------------------
// Tiny vocabularies trained by the fixture script, saved by Hugging Face
// tokenizers itself (committed: tests/fixtures/tiny-bpe/<pre>/tokenizer.json).

TEST(HfTokenizerJson, TinyVocabulariesMatchHuggingFace) {
  for (const BpePreTokenizer pre : kAllPre) {
    const std::string key = key_of(pre);
    const auto tok = mezo::load_hf_tokenizer_json(kFixtures / "tiny-bpe" / key / "tokenizer.json");
    expect_fixture_matches(*tok, "tiny " + key, [&](const auto& c) { return c["tiny"][key]; });
    EXPECT_EQ(tok->vocab_size(), 402u);
    const Ids tool = tok->encode("use <tool> here");
    EXPECT_NE(std::find(tool.begin(), tool.end(), 400), tool.end());  // non-special added token
    // qwen2 normalises to NFC, and <|mask|> swallows the spaces before it.
    if (pre != BpePreTokenizer::qwen2) expect_round_trip(*tok, "<|mask|>");
  }
}

TEST(HfTokenizerJson, SpecialTokensFromConfigAndTemplate) {
  // smollm/ has SmolLM2's tokenizer_config.json beside it.
  auto tok = mezo::load_tokenizer(kFixtures / "tiny-bpe" / "smollm");
  EXPECT_EQ(tok->special_tokens().begin, 1);
  EXPECT_EQ(tok->special_tokens().end, 2);
  EXPECT_EQ(tok->special_tokens().pad, 2);
  EXPECT_EQ(tok->special_tokens().unknown, 0);
  EXPECT_FALSE(tok->special_tokens().add_begin);
  // llama3/ puts <|begin_of_text|> first with a TemplateProcessing post-processor.
  tok = mezo::load_tokenizer(kFixtures / "tiny-bpe" / "llama3");
  EXPECT_EQ(tok->special_tokens().begin, 3);
  EXPECT_TRUE(tok->special_tokens().add_begin);
  EXPECT_EQ(tok->special_tokens().end, -1);
  // qwen2/ composes to NFC first: e + U+0301 encodes as é.
  tok = mezo::load_tokenizer(kFixtures / "tiny-bpe" / "qwen2");
  EXPECT_EQ(tok->encode("e\xCC\x81t\xC3\xA9"), tok->encode("\xC3\xA9t\xC3\xA9"));
  // <|mask|> takes the whitespace before it (lstrip).
  EXPECT_EQ(tok->encode("fill  <|mask|>"), tok->encode("fill<|mask|>"));
}

// Hand-written tokenizer.json: merges as "a b" strings (tokenizers < 0.20).
std::string tiny_json(const std::string& pre_tokenizer, const std::string& merges,
                      const std::string& extra = "") {
  nlohmann::json vocab;
  for (int b = 0; b < 256; ++b) vocab[byte_token(b)] = b;
  vocab["Ġt"] = 256;
  vocab["he"] = 257;
  vocab["Ġthe"] = 258;
  return R"({"version": "1.0", "added_tokens": [{"id": 259, "content": "<|eot|>", "special": true,
             "lstrip": false, "rstrip": false, "single_word": false, "normalized": false}],
           "normalizer": null, "pre_tokenizer": )" +
         pre_tokenizer + R"(, "post_processor": null, "decoder": {"type": "ByteLevel"}, )" + extra +
         R"("model": {"type": "BPE", "dropout": null, "unk_token": null, "vocab": )" +
         vocab.dump() + R"(, "merges": )" + merges + "}}";
}

const std::string kByteLevel =
    R"({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true})";

TEST(HfTokenizerJson, MergesAsStringsOrPairs) {
  TempDir dir;
  for (const std::string merges :
       {R"(["Ġ t", "h e", "Ġt he"])", R"([["Ġ", "t"], ["h", "e"], ["Ġt", "he"]])"}) {
    const auto path = write_bytes(dir / "tokenizer.json", tiny_json(kByteLevel, merges));
    const auto tok = mezo::load_hf_tokenizer_json(path);
    EXPECT_EQ(tok->encode(" the<|eot|>"), (Ids{258, 259}));
    EXPECT_EQ(tok->decode(Ids{258, 259}), " the<|eot|>");
    EXPECT_EQ(tok->encode("the"), (Ids{'t', 257}));
  }
}

TEST(HfTokenizerJson, BadFilesNameFileAndPart) {
  TempDir dir;
  const auto path = dir.path() / "tokenizer.json";
  const auto error_for = [&](const std::string& text, ErrorCode code) {
    write_bytes(dir / "tokenizer.json", text);
    return error_of([&] { mezo::load_hf_tokenizer_json(path); }, code);
  };
  std::string msg = error_for("{\"model\": {\"type\": \"BPE\",", ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, path.string());
  EXPECT_CONTAINS(msg, "byte offset");
  msg = error_for(R"({"model": {"type": "WordPiece", "vocab": {}}})", ErrorCode::unsupported);
  EXPECT_CONTAINS(msg, path.string());
  EXPECT_CONTAINS(msg, "\"WordPiece\"");
  msg = error_for(tiny_json(R"({"type": "Whitespace"})", "[]"), ErrorCode::unsupported);
  EXPECT_CONTAINS(msg, path.string());
  EXPECT_CONTAINS(msg, "pre_tokenizer {\"type\":\"Whitespace\"}");
  msg = error_for(
      tiny_json(
          R"({"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\s+"},
          "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false,
          "use_regex": false}]})",
          "[]"),
      ErrorCode::unsupported);
  EXPECT_CONTAINS(msg, "not supported");
  EXPECT_CONTAINS(msg, "Split");
  msg = error_for(
      tiny_json(R"({"type": "ByteLevel", "add_prefix_space": true, "use_regex": true})", "[]"),
      ErrorCode::unsupported);
  EXPECT_CONTAINS(msg, "pre_tokenizer");
  msg = error_for(tiny_json(kByteLevel, R"(["Ġ t", "nosuch token"])"), ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, path.string());
  EXPECT_CONTAINS(msg, "model.merges[1]");
  EXPECT_CONTAINS(msg, "\"nosuch\"");
  msg = error_for(tiny_json(kByteLevel, R"(["Ġ t", ["h"]])"), ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, "model.merges[1]");
  msg = error_for(tiny_json(kByteLevel, R"(["Ġt"])"), ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, "model.merges[0]");
  msg = error_for(tiny_json(kByteLevel, "[]", R"("normalizer": {"type": "Lowercase"}, )"),
                  ErrorCode::unsupported);
  EXPECT_CONTAINS(msg, "normalizer");
  std::string conflicting = tiny_json(kByteLevel, "[]");
  conflicting.replace(conflicting.find("\"id\": 259"), 9, "\"id\": 258");
  msg = error_for(conflicting, ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, "added_tokens[0]");
  EXPECT_CONTAINS(msg, "Ġthe");
  std::string fallback = tiny_json(kByteLevel, "[]");
  fallback.replace(fallback.find("\"dropout\": null"), 15, "\"byte_fallback\": true");
  EXPECT_CONTAINS(error_for(fallback, ErrorCode::unsupported), "byte_fallback");
  msg = error_of([&] { mezo::load_hf_tokenizer_json(dir.path() / "missing.json"); }, ErrorCode::io);
  EXPECT_CONTAINS(msg, (dir.path() / "missing.json").string());
}

// ---------------------------------------------------------------------------
// Each pre-tokenizer's rules, on vocabularies built here.

TEST(BytePreTokenizers, Gpt2) {
  const auto p = BpePreTokenizer::gpt2;
  expect_pieces(p, "Hello world! 123", {"Hello", " world", "!", " 123"});
  expect_pieces(p, "it's I'M", {"it", "'s", " I", "'", "M"});
  expect_pieces(p, "a   b", {"a", "  ", " b"});
  expect_pieces(p, "a \n b", {"a", " \n", " b"});
  expect_pieces(p, "x  ", {"x", "  "});
  expect_pieces(p, "!!\n", {"!!", "\n"});
}

TEST(BytePreTokenizers, SmolLMSplitsEveryDigit) {
  const auto p = BpePreTokenizer::smollm;
  expect_pieces(p, "Hello world! 123", {"Hello", " world", "!", " ", "1", "2", "3"});
  expect_pieces(p, "a1b22", {"a", "1", "b", "2", "2"});
  // The GPT-2 regex runs on the pieces between digits: "x  " ends a piece.
  expect_pieces(p, "x  1", {"x", "  ", "1"});
  expect_pieces(p, "\xD9\xA3\xC2\xBD", {"\xD9\xA3", "\xC2\xBD"});  // ٣ ½: \p{N} beyond ASCII
}

TEST(BytePreTokenizers, Llama3) {
  const auto p = BpePreTokenizer::llama3;
  expect_pieces(p, "Hello world! 123", {"Hello", " world", "!", " ", "123"});
  expect_pieces(p, "12345678", {"123", "456", "78"});
  expect_pieces(p, "I'M HERE'S", {"I", "'M", " HERE", "'S"});    // contractions of either case
  expect_pieces(p, "(hello) \tx", {"(hello", ")", " ", "\tx"});  // one non-letter joins letters
  expect_pieces(p, "a\n\n  b", {"a", "\n\n", " ", " b"});
  expect_pieces(p, "x \n y", {"x", " \n", " y"});
  expect_pieces(p, "?!\r\n\r\nok", {"?!\r\n\r\n", "ok"});
  expect_pieces(p, " ...", {" ..."});
  expect_pieces(p, "a   ", {"a", "   "});
  expect_pieces(p, "1a", {"1", "a"});
  expect_pieces(p, "\n\nx", {"\n\n", "x"});
}

TEST(BytePreTokenizers, Qwen2SplitsEveryDigit) {
  const auto p = BpePreTokenizer::qwen2;
  expect_pieces(p, "12345", {"1", "2", "3", "4", "5"});
  expect_pieces(p, "I'M here's", {"I", "'M", " here", "'s"});
  expect_pieces(p, "a \t\n\nb", {"a", " \t\n\n", "b"});
}

TEST(BytePreTokenizers, NamesParseAndPrint) {
  for (const BpePreTokenizer pre : kAllPre) {
    EXPECT_EQ(mezo::parse_bpe_pre_tokenizer(mezo::to_string(pre)), pre);
  }
  EXPECT_EQ(mezo::parse_bpe_pre_tokenizer("gpt2"), BpePreTokenizer::gpt2);
  EXPECT_EQ(mezo::parse_bpe_pre_tokenizer("llama-bpe"), BpePreTokenizer::llama3);
  EXPECT_STREQ(mezo::to_string(BpePreTokenizer::llama3), "llama-bpe");
  const std::string msg =
      error_of([] { mezo::parse_bpe_pre_tokenizer("falcon"); }, ErrorCode::unsupported);
  EXPECT_CONTAINS(msg, "\"falcon\"");
  for (const char* known : {"gpt-2", "smollm", "llama-bpe", "qwen2"}) EXPECT_CONTAINS(msg, known);
}

// ---------------------------------------------------------------------------
// Merges, special tokens, decode and errors on vocabularies built here.

TEST(ByteLevelBpe, MergesAndSpecialTokens) {
  auto v = byte_vocabulary(BpePreTokenizer::smollm, {" t", "he", " the"});
  for (const char* t : {"<|im_start|>", "<tool>", "<unk>", "<b>"}) v.tokens.push_back(t);
  v.token_types.assign(v.tokens.size(), 1);
  v.token_types[259] = 3;  // control
  v.token_types[260] = 4;  // user-defined
  v.token_types[261] = 2;  // unknown
  v.merges = {"Ġ t", "h e", "Ġt he"};
  v.special.begin = 259;
  v.special.unknown = 261;
  const auto tok = mezo::make_byte_level_bpe(v);
  EXPECT_EQ(tok->encode(" the"), Ids{258});
  EXPECT_EQ(tok->encode("the"), (Ids{'t', 257}));
  EXPECT_EQ(tok->encode("<|im_start|> the<tool><unk>"), (Ids{259, 258, 260, 261}));
  // A normal token is not kept whole: "<b>" is spelled out.
  EXPECT_EQ(tok->encode("<b>"), (Ids{'<', 'b', '>'}));
  EXPECT_EQ(tok->decode(Ids{259, 258, 260, 261}), "<|im_start|> the<tool><unk>");
  EXPECT_EQ(tok->special_tokens().begin, 259);
  EXPECT_EQ(tok->vocab_size(), 263u);
}

TEST(ByteLevelBpe, DecodeKeepsPartialCharactersAsBytes) {
  const auto tok = mezo::make_byte_level_bpe(byte_vocabulary(BpePreTokenizer::gpt2));
  const Ids ids = tok->encode("\xC3\xA9!");  // é!
  ASSERT_EQ(ids, (Ids{0xC3, 0xA9, '!'}));
  EXPECT_EQ(tok->decode(Ids{ids[0]}), "\xC3");
  EXPECT_EQ(tok->decode(Ids{ids[1], ids[2]}), "\xA9!");
  EXPECT_EQ(tok->decode(ids), "\xC3\xA9!");
  EXPECT_EQ(tok->decode(Ids{}), "");
  EXPECT_THROW(tok->decode(Ids{256}), mezo::Error);
  EXPECT_THROW(tok->decode(Ids{-1}), mezo::Error);
}

TEST(ByteLevelBpe, InvalidTextNamesByteOffset) {
  const auto tok = mezo::make_byte_level_bpe(byte_vocabulary(BpePreTokenizer::llama3));
  EXPECT_CONTAINS(error_of([&] { tok->encode("ab\xC0\xAF"); }, ErrorCode::invalid_argument),
                  "byte offset 2");
  EXPECT_CONTAINS(error_of([&] { tok->encode("ok \xFF"); }, ErrorCode::invalid_argument),
                  "byte offset 3");
}

TEST(ByteLevelBpe, InconsistentVocabulariesAreErrors) {
  auto v = byte_vocabulary(BpePreTokenizer::gpt2, {" t"});
  v.merges = {"Ġ t", "Ġt x"};
  std::string msg = error_of([&] { mezo::make_byte_level_bpe(v); }, ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, "merge 1");
  EXPECT_CONTAINS(msg, "\"Ġtx\"");
  v.merges = {"Ġt"};
  EXPECT_CONTAINS(error_of([&] { mezo::make_byte_level_bpe(v); }, ErrorCode::invalid_argument),
                  "merge 0");
  v.merges = {};
  v.tokens.push_back("a");
  msg = error_of([&] { mezo::make_byte_level_bpe(v); }, ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, "entries 97 and 257");
  v.tokens.pop_back();
  v.token_types = {1, 1};
  EXPECT_CONTAINS(error_of([&] { mezo::make_byte_level_bpe(v); }, ErrorCode::invalid_format),
                  "2 token types for 257 tokens");
  v.token_types.assign(257, 9);
  EXPECT_CONTAINS(error_of([&] { mezo::make_byte_level_bpe(v); }, ErrorCode::invalid_format),
                  "type 9");
  v.token_types.clear();
  v.special.end = 257;
  EXPECT_CONTAINS(error_of([&] { mezo::make_byte_level_bpe(v); }, ErrorCode::invalid_format),
                  "end token id 257");
  v.special.end = -1;
  v.tokens.push_back("bad\xFF");
  EXPECT_CONTAINS(error_of([&] { mezo::make_byte_level_bpe(v); }, ErrorCode::invalid_argument),
                  "tokens entry 257");
}

TEST(WordPieceDecode, JoinsWordsAndContinuations) {
  TempDir dir;
  write_bytes(dir / "vocab.txt",
              "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nhel\n##lo\nworld\n,\n!\n");
  const auto tok = mezo::load_tokenizer(dir.path());
  EXPECT_EQ(tok->decode(tok->encode("hello, world!")), "hello, world!");
  EXPECT_EQ(tok->decode(Ids{6, 7, 8}), "hello world");
  EXPECT_EQ(tok->decode(Ids{2, 5, 3}), "[CLS] hello [SEP]");
  EXPECT_THROW(tok->decode(Ids{11}), mezo::Error);
}

// ---------------------------------------------------------------------------
// GGUF: small files written here.

TEST(GgufTokenizer, ReadsTokensMergesTypesAndSpecials) {
  TempDir dir;
  const auto path = write_gguf(dir, "tiny.gguf", smollm_like_metadata());
  const auto tok = mezo::load_tokenizer(path);
  // smollm: every digit alone, so "12" is not merged.
  EXPECT_EQ(tok->encode("<|im_start|> the 12<|im_end|>"), (Ids{259, 258, ' ', '1', '2', 260}));
  EXPECT_EQ(tok->special_tokens().begin, 259);
  EXPECT_EQ(tok->special_tokens().end, 260);
  EXPECT_EQ(tok->special_tokens().pad, 260);
  EXPECT_EQ(tok->special_tokens().unknown, -1);
  EXPECT_FALSE(tok->special_tokens().add_begin);

  // No tokenizer.ggml.pre: gpt2 (digits together); llama-bpe: add_bos by default.
  auto metadata = smollm_like_metadata();
  remove_key(metadata, "tokenizer.ggml.pre");
  EXPECT_EQ(mezo::load_tokenizer(write_gguf(dir, "nopre.gguf", metadata))->encode(" 12"),
            (Ids{' ', 261}));
  set(metadata, "tokenizer.ggml.pre", mezo::GgufValue::of_string("llama-bpe"));
  remove_key(metadata, "tokenizer.ggml.add_bos_token");
  EXPECT_TRUE(
      mezo::load_tokenizer(write_gguf(dir, "llama.gguf", metadata))->special_tokens().add_begin);
}

TEST(GgufTokenizer, BadFilesNameFileAndKey) {
  TempDir dir;
  const auto error_for = [&](const std::vector<std::pair<std::string, mezo::GgufValue>>& metadata,
                             ErrorCode code) {
    const auto path = write_gguf(dir, "bad.gguf", metadata);
    return error_of([&] { mezo::load_gguf_tokenizer(mezo::GgufFile::open(path)); }, code);
  };
  const std::string file = (dir.path() / "bad.gguf").string();
  auto m = smollm_like_metadata();
  set(m, "tokenizer.ggml.model", mezo::GgufValue::of_string("t5"));  // llama.cpp's UGM
  std::string msg = error_for(m, ErrorCode::unsupported);
  EXPECT_CONTAINS(msg, file);
  EXPECT_CONTAINS(msg, "\"t5\"");
  EXPECT_CONTAINS(msg, "tokenizer.ggml.model");

  m = smollm_like_metadata();
  set(m, "tokenizer.ggml.pre", mezo::GgufValue::of_string("deepseek-llm"));
  msg = error_for(m, ErrorCode::unsupported);
  EXPECT_CONTAINS(msg, "tokenizer.ggml.pre");
  EXPECT_CONTAINS(msg, "\"deepseek-llm\"");

  m = smollm_like_metadata();
  remove_key(m, "tokenizer.ggml.merges");
  EXPECT_CONTAINS(error_for(m, ErrorCode::invalid_format), "tokenizer.ggml.merges");

  m = smollm_like_metadata();
  set(m, "tokenizer.ggml.merges", mezo::GgufValue::of_strings({"Ġ t", "x yz"}));
  msg = error_for(m, ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, "tokenizer.ggml.merges[1]");
  EXPECT_CONTAINS(msg, "\"yz\"");

  m = smollm_like_metadata();
  set(m, "tokenizer.ggml.bos_token_id", mezo::GgufValue::of_uint32(5000));
  EXPECT_CONTAINS(error_for(m, ErrorCode::invalid_format), "tokenizer.ggml.bos_token_id");

  m = smollm_like_metadata();
  set(m, "tokenizer.ggml.token_type", mezo::GgufValue::of_int32s({1, 1, 3}));
  EXPECT_CONTAINS(error_for(m, ErrorCode::invalid_format), "tokenizer.ggml.token_type");

  m = smollm_like_metadata();
  remove_key(m, "tokenizer.ggml.bos_token_id");
  set(m, "tokenizer.ggml.add_bos_token", mezo::GgufValue::of_bool(true));
  EXPECT_CONTAINS(error_for(m, ErrorCode::invalid_format), "add_bos_token");
}

TEST(LoadTokenizer, PicksGgufTokenizerJsonOrVocabTxt) {
  TempDir dir;
  // A .gguf path that is not a file: the error names it.
  EXPECT_CONTAINS(error_of([&] { mezo::load_tokenizer(dir.path() / "none.gguf"); }, ErrorCode::io),
                  "none.gguf");
  // A WordPiece tokenizer.json beside vocab.txt: WordPiece from vocab.txt.
  write_bytes(dir / "tokenizer.json", R"({"model": {"type": "WordPiece", "vocab": {}}})");
  write_bytes(dir / "vocab.txt", "[PAD]\n[UNK]\nhello\n");
  EXPECT_EQ(mezo::load_tokenizer(dir.path())->encode("hello"), Ids{2});
  // A byte-level BPE tokenizer.json wins over vocab.txt.
  write_bytes(dir / "tokenizer.json", tiny_json(kByteLevel, R"(["Ġ t", "h e", "Ġt he"])"));
  EXPECT_EQ(mezo::load_tokenizer(dir.path())->encode(" the"), Ids{258});
}

}  // namespace
