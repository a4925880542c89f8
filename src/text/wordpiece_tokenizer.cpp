// BERT WordPiece, matching Hugging Face's BertTokenizerFast: atomic special
// tokens, the BERT normaliser (clean text, CJK ideographs split, NFD accent
// stripping, lower-casing), whitespace/punctuation pre-tokenisation and greedy
// longest-match-first WordPiece with "##" continuations.
#include <fmt/format.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "file_io.hpp"
#include "mezo/error.hpp"
#include "mezo/text/tokenizer.hpp"
#include "text/unicode.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class WordPieceTokenizer final : public Tokenizer {
 public:
  WordPieceTokenizer(const std::filesystem::path& vocab_txt, const WordPieceOptions& options)
      : options_(options) {
    load_vocab(vocab_txt);
    specials_.begin = token_to_id("[CLS]");
    specials_.end = token_to_id("[SEP]");
    specials_.pad = token_to_id("[PAD]");
    specials_.unknown = token_to_id("[UNK]");
    specials_.mask = token_to_id("[MASK]");
    if (specials_.unknown < 0) {
      throw Error(
          ErrorCode::invalid_format,
          fmt::format("'{}' has no [UNK] token, which WordPiece needs", vocab_txt.string()));
    }
    for (const char* text : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
      const std::int32_t id = token_to_id(text);
      if (id >= 0) atomic_.push_back({text, id, false, false});
    }
  }

  std::vector<std::int32_t> encode(std::string_view text) const override {
    std::vector<std::int32_t> ids;
    if (text.empty()) return ids;
    detail::check_utf8(text, "text to encode");
    Scratch scratch;
    for (const detail::TextPiece& piece : detail::split_on_atomic_tokens(text, atomic_)) {
      if (piece.special_id >= 0) {
        ids.push_back(piece.special_id);
        continue;
      }
      encode_segment(text.substr(piece.begin, piece.end - piece.begin), scratch, ids);
    }
    return ids;
  }

  std::int32_t token_to_id(std::string_view token) const override {
    const auto it = vocab_.find(token);
    return it == vocab_.end() ? -1 : it->second;
  }

  std::string id_to_token(std::int32_t id) const override { return tokens_[checked_index(id)]; }

  // Hugging Face's WordPiece decoder (prefix "##", cleanup on): a space before
  // every token but the first and "##" continuations, then, token by token,
  // the space before . ? ! , and English clitics dropped.
  std::string decode(std::span<const std::int32_t> ids) const override {
    static constexpr std::pair<std::string_view, std::string_view> kCleanup[] = {
        {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
        {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
        {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    std::string out, piece;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::string& token = tokens_[checked_index(ids[i])];
      if (i == 0) {
        piece = token;
      } else if (token.starts_with("##")) {
        piece = token.substr(2);
      } else {
        piece = " " + token;
      }
      for (const auto& [from, to] : kCleanup) {
        for (std::size_t at = piece.find(from); at != std::string::npos;
             at = piece.find(from, at + to.size())) {
          piece.replace(at, from.size(), to);
        }
      }
      out += piece;
    }
    return out;
  }

  std::size_t vocab_size() const override { return tokens_.size(); }
  const SpecialTokens& special_tokens() const override { return specials_; }

 private:
  std::size_t checked_index(std::int32_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= tokens_.size()) {
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("token id {} is not in the vocabulary ({} entries)", id, tokens_.size()));
    }
    return static_cast<std::size_t>(id);
  }

  struct Scratch {
    std::vector<char32_t> cleaned, lowered;
    std::string word, key;
    std::vector<std::size_t> char_offsets;
  };

  void load_vocab(const std::filesystem::path& path) {
    const std::string bytes = detail::read_file(path);
    std::size_t pos = 0;
    while (pos < bytes.size()) {
      std::size_t eol = bytes.find('\n', pos);
      if (eol == std::string::npos) eol = bytes.size();
      std::string_view line(bytes.data() + pos, eol - pos);
      pos = eol + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      detail::check_utf8(line, fmt::format("'{}' line {}", path.string(), tokens_.size() + 1));
      // A repeated token keeps its last line, as in Hugging Face's load_vocab.
      vocab_.insert_or_assign(std::string(line), static_cast<std::int32_t>(tokens_.size()));
      tokens_.emplace_back(line);
    }
    if (tokens_.empty()) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("'{}' holds no tokens (expected one token per line)", path.string()));
    }
  }

  // Normalises, pre-tokenises and WordPiece-encodes text between special tokens.
  void encode_segment(std::string_view segment, Scratch& s, std::vector<std::int32_t>& ids) const {
    const detail::DecodedText decoded = detail::decode_utf8(segment);
    // BertNormalizer: clean text, pad CJK ideographs, strip accents, lower-case.
    s.cleaned.clear();
    for (const char32_t cp : decoded.cps) {
      if (cp == 0 || cp == 0xFFFD || detail::is_bert_control(cp)) continue;
      if (detail::is_bert_whitespace(cp)) {
        s.cleaned.push_back(U' ');
      } else if (options_.split_chinese_chars && detail::is_cjk_ideograph(cp)) {
        s.cleaned.push_back(U' ');
        s.cleaned.push_back(cp);
        s.cleaned.push_back(U' ');
      } else {
        s.cleaned.push_back(cp);
      }
    }
    if (options_.strip_accents) s.cleaned = detail::strip_accents(s.cleaned);
    const std::vector<char32_t>* normalized = &s.cleaned;
    if (options_.lower_case) {
      s.lowered.clear();
      for (const char32_t cp : s.cleaned) detail::append_lowercase(s.lowered, cp);
      normalized = &s.lowered;
    }
    // BertPreTokenizer: split on whitespace, each punctuation character alone.
    const std::vector<char32_t>& cps = *normalized;
    std::size_t start = 0;
    const auto flush = [&](std::size_t end) {
      if (end > start) encode_word(cps, start, end, s, ids);
    };
    for (std::size_t i = 0; i < cps.size(); ++i) {
      if (detail::is_white_space(cps[i])) {
        flush(i);
        start = i + 1;
      } else if (detail::is_bert_punctuation(cps[i])) {
        flush(i);
        start = i;
        flush(i + 1);
        start = i + 1;
      }
    }
    flush(cps.size());
  }

  // Greedy longest-match-first WordPiece of cps[begin, end).
  void encode_word(const std::vector<char32_t>& cps, std::size_t begin, std::size_t end, Scratch& s,
                   std::vector<std::int32_t>& ids) const {
    const std::size_t n = end - begin;
    if (n > options_.max_chars_per_word) {
      ids.push_back(specials_.unknown);
      return;
    }
    s.word.clear();
    s.char_offsets.clear();
    for (std::size_t i = begin; i < end; ++i) {
      s.char_offsets.push_back(s.word.size());
      detail::append_utf8(s.word, cps[i]);
    }
    s.char_offsets.push_back(s.word.size());
    const std::size_t first = ids.size();
    std::size_t start = 0;
    while (start < n) {
      std::int32_t found = -1;
      std::size_t stop = n;
      for (; stop > start; --stop) {
        const std::string_view piece(s.word.data() + s.char_offsets[start],
                                     s.char_offsets[stop] - s.char_offsets[start]);
        if (start == 0) {
          found = token_to_id(piece);
        } else {
          s.key.assign("##");
          s.key.append(piece);
          found = token_to_id(s.key);
        }
        if (found >= 0) break;
      }
      if (found < 0) {
        ids.resize(first);
        ids.push_back(specials_.unknown);
        return;
      }
      ids.push_back(found);
      start = stop;
    }
  }

  WordPieceOptions options_;
  std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>> vocab_;
  std::vector<std::string> tokens_;
  SpecialTokens specials_;
  std::vector<detail::AtomicToken> atomic_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_wordpiece_tokenizer(const std::filesystem::path& vocab_txt,
                                                    const WordPieceOptions& options) {
  return std::make_unique<WordPieceTokenizer>(vocab_txt, options);
}

MEZO_END_NAMESPACE
