// Tokenizers for the models libmezo trains: RoBERTa/GPT-2 byte-level BPE and
// BERT WordPiece, loaded from the standard Hugging Face vocabulary files and
// matching the reference tokenizers' ids exactly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

// Ids of the special tokens; −1 where the vocabulary has none.
struct SpecialTokens {
  std::int32_t begin = -1;    // <s> / [CLS]
  std::int32_t end = -1;      // </s> / [SEP]
  std::int32_t pad = -1;      // <pad> / [PAD]
  std::int32_t mask = -1;     // <mask> / [MASK]
  std::int32_t unknown = -1;  // <unk> / [UNK]
};

class MEZO_API Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // The ids of `text` with no special tokens added. Throws mezo::Error for
  // text that is not valid UTF-8, naming the byte offset.
  virtual std::vector<std::int32_t> encode(std::string_view text) const = 0;
  // The id of one vocabulary entry (e.g. "Ġgreat", "[MASK]"), or −1.
  virtual std::int32_t token_to_id(std::string_view token) const = 0;
  // The vocabulary entry of an id; throws for an id out of range.
  virtual std::string id_to_token(std::int32_t id) const = 0;
  // One past the largest id (the rows an embedding matrix needs).
  virtual std::size_t vocab_size() const = 0;
  virtual const SpecialTokens& special_tokens() const = 0;
};

// RoBERTa / GPT-2 byte-level BPE (vocab.json + merges.txt). The special
// tokens <s> </s> <pad> <unk> <mask> met in the text stay whole, as Hugging
// Face's added tokens do; <mask> also takes the whitespace before it (lstrip,
// as in roberta-base's tokenizer.json), so " It was <mask>." ends [was, <mask>, .].
MEZO_API std::unique_ptr<Tokenizer> load_bpe_tokenizer(const std::filesystem::path& vocab_json,
                                                       const std::filesystem::path& merges_txt);

struct WordPieceOptions {
  bool lower_case = true;     // bert-base-uncased
  bool strip_accents = true;  // follows lower_case in HF unless set explicitly
  bool split_chinese_chars = true;
  std::size_t max_chars_per_word = 100;  // longer words become [UNK]
};

// BERT WordPiece (vocab.txt). [PAD] [UNK] [CLS] [SEP] [MASK] met in the text
// stay whole (never lower-cased or split). Throws when the vocabulary has no [UNK].
MEZO_API std::unique_ptr<Tokenizer> load_wordpiece_tokenizer(const std::filesystem::path& vocab_txt,
                                                             const WordPieceOptions& options = {});

// The tokenizer of a model folder: vocab.json + merges.txt → BPE, vocab.txt →
// WordPiece (lower-casing from tokenizer_config.json's do_lower_case when
// present, else on). Throws naming the folder when neither set is there.
MEZO_API std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& model_dir);

MEZO_END_NAMESPACE
