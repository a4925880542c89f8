// The one byte-level BPE engine behind every byte-level loader (vocab.json +
// merges.txt, GGUF, tokenizer.json, make_byte_level_bpe): special tokens kept
// whole, a pre-tokenizer, GPT-2's byte-to-unicode map and rank-ordered merges.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"
#include "mezo/text/tokenizer.hpp"
#include "text/unicode.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// GGUF's token types (tokenizer.ggml.token_type).
enum TokenType : std::int32_t {
  kTokenUndefined = 0,
  kTokenNormal = 1,
  kTokenUnknown = 2,
  kTokenControl = 3,
  kTokenUserDefined = 4,
  kTokenUnused = 5,
  kTokenByte = 6,
};

struct BpeMerge {
  std::string left, right;
};

// Splits a merge written "left right" (exactly one space, neither side
// empty). False for anything else.
bool split_merge(std::string_view merge, BpeMerge& out);

// Everything the engine needs, with the names its error messages use.
struct ByteLevelBpeModel {
  std::vector<std::string> tokens;        // id → spelling; "" = no token has this id
  std::vector<std::int32_t> token_types;  // TokenType per id; empty = all normal
  std::vector<BpeMerge> merges;           // rank = index; a repeated pair keeps its last rank
  BpePreTokenizer pre = BpePreTokenizer::gpt2;
  SpecialTokens special;
  bool ignore_merges = false;
  bool nfc = false;  // NFC-normalise the text between special tokens first (Qwen2's tokenizer.json)
  // Kept whole in the text (leftmost-longest, Hugging Face's added-token rule).
  std::vector<AtomicToken> atomic;
  // For messages: what the vocabulary came from ("'/m/tokenizer.json'"), the
  // field holding the tokens, and where merge `rank` was written ("line 7").
  std::string source = "byte-level BPE vocabulary";
  std::string tokens_field = "tokens";
  std::function<std::string(std::size_t rank)> merge_location;
};

// The unknown, control and user-defined tokens of `model` (by token_types),
// as atomic tokens without lstrip/rstrip: llama.cpp's special-token split.
std::vector<AtomicToken> atomic_tokens_from_types(const ByteLevelBpeModel& model);

// Validates `model` (every merge's tokens exist, tokens unique and valid
// UTF-8, types and special ids in range) and builds the tokenizer; throws
// mezo::Error naming `source` and the token or merge at fault.
std::unique_ptr<Tokenizer> make_byte_level_bpe(ByteLevelBpeModel model);

}  // namespace detail
MEZO_END_NAMESPACE
