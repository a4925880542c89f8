// The byte-level BPE tokenizer stored in a GGUF file (tokenizer.ggml.*), read
// as llama.cpp's llama_vocab::load does for tokenizer.ggml.model "gpt2".
#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "mezo/error.hpp"
#include "mezo/io/gguf.hpp"
#include "mezo/text/tokenizer.hpp"
#include "text/byte_level_bpe.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

// An optional token id key: −1 when absent; must name a token.
std::int32_t read_token_id(const GgufFile& file, const char* key, std::size_t num_tokens) {
  if (file.find(key) == nullptr) return -1;
  const std::uint64_t id = file.get_uint(key);
  if (id >= num_tokens) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("GGUF file '{}': {} is {}, beyond the {} tokens", file.path().string(),
                            key, id, num_tokens));
  }
  return static_cast<std::int32_t>(id);
}

// tokenizer.ggml.token_type, checked against the token count and GGUF's
// types; empty when absent (all normal).
std::vector<std::int32_t> read_token_types(const GgufFile& file, const std::string& where,
                                           std::size_t num_tokens) {
  std::vector<std::int32_t> out;
  if (file.find("tokenizer.ggml.token_type") == nullptr) return out;
  const std::vector<std::int64_t>& types = file.get_integers("tokenizer.ggml.token_type");
  if (types.size() != num_tokens) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("{}: tokenizer.ggml.token_type has {} entries for {} tokens", where,
                            types.size(), num_tokens));
  }
  out.reserve(types.size());
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (types[i] < detail::kTokenUndefined || types[i] > detail::kTokenByte) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: tokenizer.ggml.token_type[{}] is {}; GGUF's types are 0 to 6",
                              where, i, types[i]));
    }
    out.push_back(static_cast<std::int32_t>(types[i]));
  }
  return out;
}

// llama.cpp's LLAMA_VOCAB_TYPE_SPM load: its defaults where a key is absent
// (begin 1, end 2, unknown 0 when the vocabulary has them; add_bos and
// add_space_prefix true).
std::unique_ptr<Tokenizer> load_sentencepiece(const GgufFile& file, const std::string& where) {
  SentencePieceVocabulary vocab;
  vocab.tokens = file.get_strings("tokenizer.ggml.tokens");
  const std::size_t n = vocab.tokens.size();
  if (file.find("tokenizer.ggml.scores") != nullptr) {
    const std::vector<double>& scores = file.get_floats("tokenizer.ggml.scores");
    if (scores.size() != n) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: tokenizer.ggml.scores has {} entries for {} tokens", where,
                              scores.size(), n));
    }
    vocab.scores.assign(scores.begin(), scores.end());
  }
  vocab.token_types = read_token_types(file, where, n);
  const auto id_or = [&](const char* key, std::int32_t fallback) {
    const std::int32_t id = read_token_id(file, key, n);
    return id >= 0 ? id : fallback < static_cast<std::int32_t>(n) ? fallback : -1;
  };
  vocab.special.begin = id_or("tokenizer.ggml.bos_token_id", 1);
  vocab.special.end = id_or("tokenizer.ggml.eos_token_id", 2);
  vocab.special.unknown = id_or("tokenizer.ggml.unknown_token_id", 0);
  vocab.special.pad = read_token_id(file, "tokenizer.ggml.padding_token_id", n);
  vocab.special.add_begin = file.find("tokenizer.ggml.add_bos_token") == nullptr ||
                            file.get_bool("tokenizer.ggml.add_bos_token");
  vocab.add_space_prefix = file.find("tokenizer.ggml.add_space_prefix") == nullptr ||
                           file.get_bool("tokenizer.ggml.add_space_prefix");
  try {
    return make_sentencepiece(std::move(vocab));
  } catch (const Error& e) {
    throw Error(ErrorCode::invalid_format, fmt::format("{}: {}", where, e.what()));
  }
}

}  // namespace

std::unique_ptr<Tokenizer> load_gguf_tokenizer(const GgufFile& file) {
  const std::string where = fmt::format("GGUF file '{}'", file.path().string());
  const std::string& kind = file.get_string("tokenizer.ggml.model");
  if (kind == "llama") return load_sentencepiece(file, where);
  if (kind != "gpt2") {
    throw Error(ErrorCode::unsupported,
                fmt::format("{}: tokenizer.ggml.model is \"{}\"; libmezo reads \"gpt2\" "
                            "(byte-level BPE: Llama 3, SmolLM2, Qwen2, GPT-2) and \"llama\" "
                            "(SentencePiece: Llama 2, Gemma), not other tokenizers",
                            where, kind));
  }
  detail::ByteLevelBpeModel model;
  model.source = where;
  model.tokens_field = "tokenizer.ggml.tokens";
  model.tokens = file.get_strings("tokenizer.ggml.tokens");
  const std::vector<std::string>& merges = file.get_strings("tokenizer.ggml.merges");
  model.merges.resize(merges.size());
  for (std::size_t i = 0; i < merges.size(); ++i) {
    if (!detail::split_merge(merges[i], model.merges[i])) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: tokenizer.ggml.merges[{}] (\"{}\") must be two tokens "
                              "separated by one space",
                              where, i, merges[i]));
    }
  }
  model.merge_location = [](std::size_t rank) {
    return fmt::format("tokenizer.ggml.merges[{}]", rank);
  };
  model.token_types = read_token_types(file, where, model.tokens.size());
  if (file.find("tokenizer.ggml.pre") != nullptr) {
    try {
      model.pre = parse_bpe_pre_tokenizer(file.get_string("tokenizer.ggml.pre"));
    } catch (const Error& e) {
      throw Error(e.code(), fmt::format("{}: tokenizer.ggml.pre: {}", where, e.what()));
    }
  }
  // llama.cpp ignores merges for whole-token words with Llama 3's pre-tokenizer.
  model.ignore_merges = model.pre == BpePreTokenizer::llama3;
  const std::size_t n = model.tokens.size();
  model.special.begin = read_token_id(file, "tokenizer.ggml.bos_token_id", n);
  model.special.end = read_token_id(file, "tokenizer.ggml.eos_token_id", n);
  model.special.pad = read_token_id(file, "tokenizer.ggml.padding_token_id", n);
  model.special.unknown = read_token_id(file, "tokenizer.ggml.unknown_token_id", n);
  model.special.add_begin = file.find("tokenizer.ggml.add_bos_token") != nullptr
                                ? file.get_bool("tokenizer.ggml.add_bos_token")
                                : model.pre == BpePreTokenizer::llama3;
  if (model.special.add_begin && model.special.begin < 0) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("{}: tokenizer.ggml.add_bos_token is true, but "
                            "tokenizer.ggml.bos_token_id is not set",
                            where));
  }
  model.atomic = detail::atomic_tokens_from_types(model);
  return detail::make_byte_level_bpe(std::move(model));
}

MEZO_END_NAMESPACE
