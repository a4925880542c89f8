// SentencePiece (BPE by score) as llama.cpp's SPM tokenizer runs it
// (llama-vocab.cpp: llm_tokenizer_spm_session, llama_vocab::impl::tokenize
// and token_to_piece for LLAMA_VOCAB_TYPE_SPM); the facts and where llama.cpp
// differs from SentencePiece and Hugging Face are in
// ../shared/guide/DECODERS.md and the header (make_sentencepiece).
#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mezo/error.hpp"
#include "mezo/text/tokenizer.hpp"
#include "text/byte_level_bpe.hpp"  // TokenType
#include "text/unicode.hpp"

MEZO_BEGIN_NAMESPACE
namespace {

using detail::TokenType;

constexpr std::string_view kSpace = "\xE2\x96\x81";  // "▁", U+2581: SentencePiece's space

// The length of the UTF-8 sequence a lead byte starts (the text is valid).
std::size_t utf8_length(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

class SentencePiece final : public Tokenizer {
 public:
  explicit SentencePiece(SentencePieceVocabulary vocab) : vocab_(std::move(vocab)) {
    const std::size_t n = vocab_.tokens.size();
    const auto fail = [](const std::string& message) {
      throw Error(ErrorCode::invalid_argument, "SentencePiece vocabulary: " + message);
    };
    if (!vocab_.scores.empty() && vocab_.scores.size() != n)
      fail(fmt::format("{} scores for {} tokens", vocab_.scores.size(), n));
    if (!vocab_.token_types.empty() && vocab_.token_types.size() != n)
      fail(fmt::format("{} token types for {} tokens", vocab_.token_types.size(), n));
    if (vocab_.scores.empty()) vocab_.scores.assign(n, 0.0f);
    if (vocab_.token_types.empty()) vocab_.token_types.assign(n, detail::kTokenNormal);
    ids_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::string& piece = vocab_.tokens[i];
      const auto id = static_cast<std::int32_t>(i);
      const std::int32_t type = vocab_.token_types[i];
      if (type < detail::kTokenUndefined || type > detail::kTokenByte)
        fail(fmt::format("token {} has type {}; GGUF's types are 0 to 6", i, type));
      if (piece.empty()) continue;  // llama.cpp names it "[EMPTY_i]": no text reaches it
      detail::check_utf8(piece, fmt::format("token {}", i));
      if (type == detail::kTokenByte && byte_of(piece) < 0)
        fail(fmt::format("token {} is a byte token but reads \"{}\", not <0xXX>", i, piece));
      if (!ids_.emplace(piece, id).second)
        fail(fmt::format("token {} (\"{}\") repeats token {}", i, piece, ids_.at(piece)));
      if (type == detail::kTokenUnknown || type == detail::kTokenControl ||
          type == detail::kTokenUserDefined)
        atomic_.push_back({piece, id, false, false});
    }
    for (const std::int32_t* special :
         {&vocab_.special.begin, &vocab_.special.end, &vocab_.special.pad, &vocab_.special.mask,
          &vocab_.special.unknown}) {
      if (*special >= static_cast<std::int32_t>(n))
        fail(fmt::format("special token id {} is beyond the {} tokens", *special, n));
    }
    if (vocab_.special.add_begin && vocab_.special.begin < 0)
      fail("add_begin is set but there is no begin token");
    for (int b = 0; b < 256; ++b) byte_ids_[b] = byte_id(static_cast<unsigned char>(b));
  }

  std::vector<std::int32_t> encode(std::string_view text) const override {
    detail::check_utf8(text);
    std::vector<std::int32_t> out;
    bool after_whole_token = true;  // the text's start counts as one (llama.cpp's is_prev_special)
    for (const detail::TextPiece& piece : detail::split_on_atomic_tokens(text, atomic_)) {
      if (piece.special_id >= 0) {
        out.push_back(piece.special_id);
        after_whole_token = true;
        continue;
      }
      std::string escaped;
      if (vocab_.add_space_prefix && after_whole_token) escaped = kSpace;
      for (const char c : text.substr(piece.begin, piece.end - piece.begin)) {
        if (c == ' ')
          escaped += kSpace;
        else
          escaped += c;
      }
      encode_stretch(escaped, out);
      after_whole_token = false;
    }
    return out;
  }

  std::int32_t token_to_id(std::string_view token) const override {
    const auto it = ids_.find(std::string(token));
    return it == ids_.end() ? -1 : it->second;
  }

  std::string id_to_token(std::int32_t id) const override {
    check_id(id);
    return vocab_.tokens[static_cast<std::size_t>(id)];
  }

  std::string decode(std::span<const std::int32_t> ids) const override {
    std::string out;
    for (std::size_t k = 0; k < ids.size(); ++k) {
      const std::int32_t id = ids[k];
      check_id(id);
      const std::string& piece = vocab_.tokens[static_cast<std::size_t>(id)];
      std::string text;
      switch (vocab_.token_types[static_cast<std::size_t>(id)]) {
        case detail::kTokenNormal:
          for (std::size_t i = 0; i < piece.size();) {
            if (piece.compare(i, kSpace.size(), kSpace) == 0) {
              text += ' ';
              i += kSpace.size();
            } else {
              text += piece[i++];
            }
          }
          break;
        case detail::kTokenByte:
          text += static_cast<char>(byte_of(piece));  // checked when the vocabulary was made
          break;
        case detail::kTokenUnknown:
        case detail::kTokenControl:
        case detail::kTokenUserDefined:
          text = piece;
          break;
        default:  // unused, undefined: llama.cpp writes nothing
          break;
      }
      // llama.cpp's detokenize strips the space prefix from the first piece.
      if (k == 0 && vocab_.add_space_prefix && !text.empty() && text[0] == ' ') text.erase(0, 1);
      out += text;
    }
    return out;
  }

  std::size_t vocab_size() const override { return vocab_.tokens.size(); }
  const SpecialTokens& special_tokens() const override { return vocab_.special; }

 private:
  // A symbol of the stretch being merged: bytes [begin, begin + size) of it,
  // in a doubly linked list (size 0: merged into its left neighbour).
  struct Symbol {
    std::size_t begin = 0, size = 0;
    std::ptrdiff_t prev = -1, next = -1;
  };
  // A candidate merge of symbols left and right, whose concatenation is a
  // token of score `score` and `size` bytes (stale once either has changed).
  struct Bigram {
    float score = 0.0f;
    std::ptrdiff_t left = 0, right = 0;
    std::size_t size = 0;
  };
  // Highest score first; among equal scores, the leftmost (SentencePiece's
  // and llama.cpp's order).
  struct Later {
    bool operator()(const Bigram& a, const Bigram& b) const {
      return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
  };

  void encode_stretch(const std::string& text, std::vector<std::int32_t>& out) const {
    std::vector<Symbol> symbols;
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t len = utf8_length(static_cast<unsigned char>(text[pos]));
      const auto index = static_cast<std::ptrdiff_t>(symbols.size());
      symbols.push_back({pos, len, index - 1, index + 1});
      pos += len;
    }
    if (symbols.empty()) return;
    symbols.back().next = -1;
    std::priority_queue<Bigram, std::vector<Bigram>, Later> queue;
    const auto try_bigram = [&](std::ptrdiff_t left, std::ptrdiff_t right) {
      if (left < 0 || right < 0) return;
      const Symbol& l = symbols[static_cast<std::size_t>(left)];
      const Symbol& r = symbols[static_cast<std::size_t>(right)];
      const auto it = ids_.find(text.substr(l.begin, l.size + r.size));
      if (it == ids_.end()) return;
      queue.push(
          {vocab_.scores[static_cast<std::size_t>(it->second)], left, right, l.size + r.size});
    };
    for (std::size_t i = 1; i < symbols.size(); ++i)
      try_bigram(static_cast<std::ptrdiff_t>(i) - 1, static_cast<std::ptrdiff_t>(i));
    while (!queue.empty()) {
      const Bigram b = queue.top();
      queue.pop();
      Symbol& l = symbols[static_cast<std::size_t>(b.left)];
      Symbol& r = symbols[static_cast<std::size_t>(b.right)];
      if (l.size == 0 || r.size == 0 || l.size + r.size != b.size) continue;  // stale
      l.size += r.size;
      r.size = 0;
      l.next = r.next;
      if (r.next >= 0) symbols[static_cast<std::size_t>(r.next)].prev = b.left;
      try_bigram(l.prev, b.left);
      try_bigram(b.left, l.next);
    }
    for (std::ptrdiff_t i = 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
      const Symbol& s = symbols[static_cast<std::size_t>(i)];
      const std::string piece = text.substr(s.begin, s.size);
      if (const auto it = ids_.find(piece); it != ids_.end()) {
        out.push_back(it->second);
        continue;
      }
      for (const char c : piece) {
        const std::int32_t id = byte_ids_[static_cast<unsigned char>(c)];
        if (id < 0) {
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("SentencePiece: the vocabulary has no token for \"{}\" and no "
                                  "byte token <0x{:02X}> to spell it with",
                                  piece, static_cast<unsigned char>(c)));
        }
        out.push_back(id);
      }
    }
  }

  // llama.cpp's byte_to_token: "<0xXX>" (upper-case hex), else the one-byte
  // piece, else none (−1).
  std::int32_t byte_id(unsigned char b) const {
    if (const auto it = ids_.find(fmt::format("<0x{:02X}>", b)); it != ids_.end())
      return it->second;
    if (const auto it = ids_.find(std::string(1, static_cast<char>(b))); it != ids_.end())
      return it->second;
    return -1;
  }

  // The byte a byte token "<0xXX>" stands for (llama.cpp's token_to_byte
  // reads the two hex digits), or −1 when the piece is not written so.
  static int byte_of(const std::string& piece) {
    unsigned value = 0;
    char tail = 0;
    if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 ||
        std::sscanf(piece.c_str() + 3, "%2x%c", &value, &tail) != 2 || tail != '>')
      return -1;
    return static_cast<int>(value);
  }

  void check_id(std::int32_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= vocab_.tokens.size()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("token id {} is out of range [0, {})", id, vocab_.tokens.size()));
    }
  }

  SentencePieceVocabulary vocab_;
  std::unordered_map<std::string, std::int32_t> ids_;  // every piece, whatever its type
  std::vector<detail::AtomicToken> atomic_;            // unknown, control and user-defined
  std::array<std::int32_t, 256> byte_ids_{};
};

}  // namespace

std::unique_ptr<Tokenizer> make_sentencepiece(SentencePieceVocabulary vocab) {
  return std::make_unique<SentencePiece>(std::move(vocab));
}

MEZO_END_NAMESPACE
