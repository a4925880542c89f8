// Tokenizers for the models libmezo trains: byte-level BPE (RoBERTa/GPT-2 and
// the decoder LMs: Llama 3, SmolLM2, Qwen2), SentencePiece (Llama 2, Gemma;
// from GGUF) and BERT WordPiece, loaded from
// Hugging Face files or a GGUF file and matching the reference tokenizers'
// ids exactly (Hugging Face's for HF files, llama.cpp's for GGUF).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

class GgufFile;

// Ids of the special tokens; −1 where the vocabulary has none.
struct SpecialTokens {
  std::int32_t begin = -1;    // <s> / [CLS]
  std::int32_t end = -1;      // </s> / [SEP]
  std::int32_t pad = -1;      // <pad> / [PAD]
  std::int32_t mask = -1;     // <mask> / [MASK]
  std::int32_t unknown = -1;  // <unk> / [UNK]
  // The model's tokenizer puts `begin` before every sequence (GGUF
  // tokenizer.ggml.add_bos_token; true for Llama 3, false for SmolLM2 and
  // Qwen2). encode() never adds it: whoever builds the model's input does.
  bool add_begin = false;
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
  // The text of `ids`; throws for an id out of range. Byte-level BPE gives the
  // bytes behind the tokens' byte-to-unicode spelling as they are: ids that
  // cut a multi-byte character give a string that is not valid UTF-8 (so the
  // decodes of consecutive pieces concatenate to the whole text; Hugging Face
  // would show U+FFFD instead). Special tokens appear as their text. WordPiece
  // joins words with spaces, glues "##" continuations to the word before and
  // drops the space before . , ! ? and English clitics, as Hugging Face's
  // WordPiece decoder does; lower-casing and stripped accents stay lost.
  virtual std::string decode(std::span<const std::int32_t> ids) const = 0;
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

// How a byte-level BPE tokenizer cuts text into words before merging, named as
// in GGUF's tokenizer.ggml.pre and checked against llama.cpp (llama-vocab.cpp):
//   gpt2    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   smollm  every \p{N} character alone first, then gpt2 on each piece
//   llama3  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//            ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   qwen2   llama3 with \p{N} (one digit a piece) for \p{N}{1,3}
// (the contractions match ASCII letters of either case, as llama.cpp's
// adaptation of (?i:...) does).
enum class BpePreTokenizer { gpt2, smollm, llama3, qwen2 };

// Accepts llama.cpp's names: "gpt-2" or "gpt2", "smollm", "llama-bpe" (also
// "llama3", "llama-v3"), "qwen2". Throws mezo::Error listing these for any other.
MEZO_API BpePreTokenizer parse_bpe_pre_tokenizer(std::string_view name);
// "gpt-2", "smollm", "llama-bpe", "qwen2": what llama.cpp writes and reads.
MEZO_API const char* to_string(BpePreTokenizer pre) noexcept;

// A byte-level BPE vocabulary as GGUF stores it.
struct ByteLevelBpeVocabulary {
  // id → token in GPT-2's byte-to-unicode spelling ("Ġgreat" for " great").
  std::vector<std::string> tokens;
  // "left right", rank = index; both sides and their concatenation must be tokens.
  std::vector<std::string> merges;
  // Per id, GGUF's numbering: 1 normal, 2 unknown, 3 control, 4 user-defined,
  // 5 unused, 6 byte (0 undefined). Empty = all normal. Unknown, control and
  // user-defined tokens met in the text stay whole, as llama.cpp does (taking
  // the leftmost-longest occurrence, as Hugging Face does; llama.cpp takes the
  // longest token first, which differs only where two such tokens overlap).
  std::vector<std::int32_t> token_types;
  BpePreTokenizer pre = BpePreTokenizer::gpt2;
  SpecialTokens special;
  // A word that is itself a token is that token, whatever the merges would
  // make of it (Hugging Face's BPE ignore_merges; llama.cpp sets it for llama3).
  bool ignore_merges = false;
};

// Throws mezo::Error naming the token or merge at fault for a vocabulary that
// is inconsistent (a merge naming a token not in `tokens`, a repeated token,
// a special id out of range, token_types of another length).
MEZO_API std::unique_ptr<Tokenizer> make_byte_level_bpe(ByteLevelBpeVocabulary vocab);

// A SentencePiece vocabulary as GGUF stores it (tokenizer.ggml.model "llama":
// Llama 1/2, Mistral, TinyLlama, Gemma 1-3, Phi-3), tokenised as llama.cpp's
// SPM tokenizer does (llama-vocab.cpp): unknown, control and user-defined
// tokens met in the text stay whole (leftmost-longest, as for byte-level BPE);
// every other stretch of text gets a leading " " when add_space_prefix, has
// each U+0020 replaced by "▁" (U+2581; no other normalisation), starts as
// one symbol per character and merges adjacent symbols whose concatenation
// is a token, the highest-scoring such pair first (the leftmost among equal
// scores); a symbol left that is no token becomes the byte tokens "<0xXX>"
// of its bytes (byte fallback), or a one-byte token, or an error naming it.
// decode() writes normal pieces with "▁" as " ", byte tokens as their byte,
// unknown, control and user-defined tokens as their text, unused ones as
// nothing, and drops one leading " " of the first piece when
// add_space_prefix (llama.cpp's detokenize).
struct SentencePieceVocabulary {
  std::vector<std::string> tokens;        // id → piece: "▁the", "<0x0A>", "<start_of_turn>"
  std::vector<float> scores;              // per id; empty = all 0
  std::vector<std::int32_t> token_types;  // GGUF's numbering, as above; empty = all normal
  SpecialTokens special;
  // A " " before the text and after each whole token (tokenizer.ggml.
  // add_space_prefix; llama.cpp's default true, Gemma's converter writes false).
  bool add_space_prefix = true;
};

// Throws mezo::Error naming the token for a vocabulary that is inconsistent
// (a repeated or invalid-UTF-8 piece, scores or types of another length, a
// type out of range, a special id out of range).
MEZO_API std::unique_ptr<Tokenizer> make_sentencepiece(SentencePieceVocabulary vocab);

// The tokenizer stored in a GGUF file (tokenizer.ggml.*): model "gpt2"
// (byte-level BPE) or "llama" (SentencePiece: tokens, scores, token_type,
// add_space_prefix, add_bos_token; absent ids and flags take llama.cpp's
// defaults: begin 1, end 2, unknown 0, add_begin and add_space_prefix true).
// Another model is an `unsupported` error naming it. For "gpt2": the
// pre-tokenizer from tokenizer.ggml.pre (absent → gpt2; llama.cpp would warn
// and use its own "default" regex, but its converter always writes the key);
// special ids from bos/eos/padding/unknown_token_id (begin, end, pad,
// unknown); add_begin from add_bos_token (absent: true for llama3, else
// false, as llama.cpp).
MEZO_API std::unique_ptr<Tokenizer> load_gguf_tokenizer(const GgufFile& file);

// A Hugging Face tokenizer.json with model.type "BPE" and a byte-level
// pre-tokenizer: ByteLevel alone (gpt2), Sequence[Digits(individual_digits),
// ByteLevel] (smollm), or Sequence[Split(Llama 3's or Qwen2's regex),
// ByteLevel(use_regex=false)] (llama3, qwen2); normalizer none or NFC. Added
// tokens stay whole in the text. Special ids from a tokenizer_config.json
// beside it when present (bos/eos/pad/unk_token, add_bos_token), else from the
// model's unk_token and a TemplateProcessing post-processor's leading token.
// Anything else is an `unsupported` error naming the file and the part.
MEZO_API std::unique_ptr<Tokenizer> load_hf_tokenizer_json(
    const std::filesystem::path& tokenizer_json);

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

// The tokenizer of a model: a .gguf file → load_gguf_tokenizer; a folder with
// vocab.json + merges.txt → BPE; else a tokenizer.json whose model is BPE →
// load_hf_tokenizer_json; else vocab.txt → WordPiece (lower-casing from
// tokenizer_config.json's do_lower_case when present, else on). Throws naming
// the path when none of these is there.
MEZO_API std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& model);

MEZO_END_NAMESPACE
