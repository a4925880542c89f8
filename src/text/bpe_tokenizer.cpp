// RoBERTa / GPT-2 byte-level BPE, matching Hugging Face's RobertaTokenizerFast:
// atomic special tokens, the GPT-2 pre-tokenisation regex (hand-written), the
// byte-to-unicode map and rank-ordered merges.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "file_io.hpp"
#include "json_text.hpp"
#include "mezo/error.hpp"
#include "mezo/text/tokenizer.hpp"
#include "text/unicode.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

using detail::DecodedText;

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Vocab = std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>;

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes map to themselves, the
// other 68 to U+0100 onwards in byte order.
std::array<char32_t, 256> byte_to_unicode() {
  std::array<char32_t, 256> map{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    map[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return map;
}

std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
         static_cast<std::uint32_t>(b);
}

// The GPT-2 pre-tokenisation regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// as a single left-to-right scan over code points. Appends the code-point
// ranges [begin, end) of the pieces.
void pre_tokenize(const std::vector<char32_t>& cps,
                  std::vector<std::pair<std::size_t, std::size_t>>& out) {
  enum Class : unsigned char { kSpace, kLetter, kNumber, kOther };
  std::vector<unsigned char> cls(cps.size());
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t c = cps[i];
    cls[i] = detail::is_white_space(c) ? kSpace
             : detail::is_letter(c)    ? kLetter
             : detail::is_number(c)    ? kNumber
                                       : kOther;
  }
  const std::size_t n = cps.size();
  std::size_t i = 0;
  while (i < n) {
    const char32_t c = cps[i];
    // Contractions: 's 't 're 've 'm 'll 'd (case-sensitive).
    if (c == U'\'' && i + 1 < n) {
      const char32_t c1 = cps[i + 1];
      if (c1 == U's' || c1 == U't' || c1 == U'm' || c1 == U'd') {
        out.emplace_back(i, i + 2);
        i += 2;
        continue;
      }
      if (i + 2 < n) {
        const char32_t c2 = cps[i + 2];
        if ((c1 == U'r' && c2 == U'e') || (c1 == U'v' && c2 == U'e') ||
            (c1 == U'l' && c2 == U'l')) {
          out.emplace_back(i, i + 3);
          i += 3;
          continue;
        }
      }
    }
    // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+'.
    const std::size_t j = c == U' ' ? i + 1 : i;
    if (j < n && cls[j] != kSpace) {
      const unsigned char k = cls[j];
      std::size_t end = j + 1;
      while (end < n && cls[end] == k) ++end;
      out.emplace_back(i, end);
      i = end;
      continue;
    }
    // '\s+(?!\S)' then '\s+': a whitespace run, leaving its last character to
    // the next piece when a non-space follows and the run is longer than one.
    std::size_t end = i + 1;
    while (end < n && cls[end] == kSpace) ++end;
    if (end < n && end - i >= 2) --end;
    out.emplace_back(i, end);
    i = end;
  }
}

class BpeTokenizer final : public Tokenizer {
 public:
  BpeTokenizer(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt) {
    load_vocab(vocab_json);
    load_merges(merges_txt);
    const auto unicode = byte_to_unicode();
    for (int b = 0; b < 256; ++b) {
      std::string s;
      detail::append_utf8(s, unicode[b]);
      byte_ids_[b] = token_to_id(s);
    }
    specials_.begin = token_to_id("<s>");
    specials_.end = token_to_id("</s>");
    specials_.pad = token_to_id("<pad>");
    specials_.unknown = token_to_id("<unk>");
    specials_.mask = token_to_id("<mask>");
    // RoBERTa's added tokens: all atomic, <mask> also takes the whitespace before it.
    for (const auto& [text, lstrip] : {std::pair{"<s>", false},
                                       {"</s>", false},
                                       {"<pad>", false},
                                       {"<unk>", false},
                                       {"<mask>", true}}) {
      const std::int32_t id = token_to_id(text);
      if (id >= 0) atomic_.push_back({text, id, lstrip, false});
    }
  }

  std::vector<std::int32_t> encode(std::string_view text) const override {
    std::vector<std::int32_t> ids;
    if (text.empty()) return ids;
    detail::check_utf8(text, "text to encode");
    std::vector<std::pair<std::size_t, std::size_t>> pieces;
    for (const detail::TextPiece& piece : detail::split_on_atomic_tokens(text, atomic_)) {
      if (piece.special_id >= 0) {
        ids.push_back(piece.special_id);
        continue;
      }
      const std::string_view segment = text.substr(piece.begin, piece.end - piece.begin);
      const DecodedText decoded = detail::decode_utf8(segment);
      pieces.clear();
      pre_tokenize(decoded.cps, pieces);
      for (const auto& [b, e] : pieces) {
        const std::string_view word =
            segment.substr(decoded.offsets[b], decoded.offsets[e] - decoded.offsets[b]);
        encode_word(word, ids);
      }
    }
    return ids;
  }

  std::int32_t token_to_id(std::string_view token) const override {
    const auto it = vocab_.find(token);
    return it == vocab_.end() ? -1 : it->second;
  }

  std::string id_to_token(std::int32_t id) const override {
    if (id < 0 || static_cast<std::size_t>(id) >= id_to_token_.size() ||
        id_to_token_[static_cast<std::size_t>(id)] == nullptr) {
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("token id {} is not in the vocabulary ({} entries)", id, vocab_.size()));
    }
    return *id_to_token_[static_cast<std::size_t>(id)];
  }

  std::size_t vocab_size() const override { return id_to_token_.size(); }
  const SpecialTokens& special_tokens() const override { return specials_; }

 private:
  struct Merge {
    std::int32_t rank;
    std::int32_t new_id;
  };

  void load_vocab(const std::filesystem::path& path) {
    const std::string bytes = detail::read_file(path);
    const nlohmann::json json = detail::parse_json_text(bytes, path);
    if (!json.is_object()) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("'{}' must be a JSON object mapping tokens to ids, not {}",
                              path.string(), json.type_name()));
    }
    if (json.empty()) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("'{}' holds an empty vocabulary", path.string()));
    }
    vocab_.reserve(json.size());
    std::int64_t max_id = -1;
    for (const auto& [token, value] : json.items()) {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
          value.get<std::int64_t>() > std::numeric_limits<std::int32_t>::max()) {
        throw Error(ErrorCode::invalid_format,
                    fmt::format("'{}': the id of token \"{}\" must be a non-negative integer, "
                                "not {}",
                                path.string(), token, value.dump()));
      }
      const auto id = value.get<std::int64_t>();
      vocab_.emplace(token, static_cast<std::int32_t>(id));
      max_id = std::max(max_id, id);
    }
    if (max_id >= static_cast<std::int64_t>(4 * vocab_.size() + 1024)) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("'{}': id {} is far beyond the vocabulary's {} entries",
                              path.string(), max_id, vocab_.size()));
    }
    id_to_token_.assign(static_cast<std::size_t>(max_id) + 1, nullptr);
    for (const auto& [token, id] : vocab_) {
      const std::string*& slot = id_to_token_[static_cast<std::size_t>(id)];
      if (slot != nullptr) {
        throw Error(ErrorCode::invalid_format,
                    fmt::format("'{}': tokens \"{}\" and \"{}\" share id {}", path.string(), *slot,
                                token, id));
      }
      slot = &token;
    }
  }

  void load_merges(const std::filesystem::path& path) {
    const std::string bytes = detail::read_file(path);
    std::size_t pos = 0;
    std::size_t line_number = 0;
    std::int32_t rank = 0;
    while (pos < bytes.size()) {
      std::size_t eol = bytes.find('\n', pos);
      if (eol == std::string::npos) eol = bytes.size();
      std::string_view line(bytes.data() + pos, eol - pos);
      pos = eol + 1;
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty() || line.starts_with("#version")) continue;
      const std::size_t space = line.find(' ');
      if (space == std::string_view::npos || space == 0 || space + 1 == line.size() ||
          line.find(' ', space + 1) != std::string_view::npos) {
        throw Error(ErrorCode::invalid_format,
                    fmt::format("'{}' line {}: a merge must be two tokens separated by one "
                                "space, got \"{}\"",
                                path.string(), line_number, line));
      }
      const std::string_view left = line.substr(0, space);
      const std::string_view right = line.substr(space + 1);
      const std::int32_t left_id = token_to_id(left);
      const std::int32_t right_id = token_to_id(right);
      std::string merged(left);
      merged += right;
      const std::int32_t new_id = token_to_id(merged);
      if (left_id < 0 || right_id < 0 || new_id < 0) {
        throw Error(ErrorCode::invalid_format,
                    fmt::format("'{}' line {}: merge \"{}\" uses a token not in the "
                                "vocabulary (\"{}\")",
                                path.string(), line_number, line,
                                left_id < 0    ? left
                                : right_id < 0 ? right
                                               : merged));
      }
      // A repeated pair takes its last rank, as in Hugging Face's tokenizers.
      merges_.insert_or_assign(pair_key(left_id, right_id), Merge{rank, new_id});
      ++rank;
    }
  }

  // Byte-level BPE of one pre-tokenised piece (raw UTF-8 bytes).
  void encode_word(std::string_view word, std::vector<std::int32_t>& ids) const {
    constexpr std::size_t kMaxCachedBytes = 64;
    if (word.size() <= kMaxCachedBytes) {
      std::lock_guard lock(cache_mutex_);
      if (const auto it = cache_.find(word); it != cache_.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    const std::size_t first = ids.size();
    merge_word(word, ids);
    if (word.size() <= kMaxCachedBytes) {
      std::lock_guard lock(cache_mutex_);
      if (cache_.size() >= kMaxCacheEntries) cache_.clear();
      cache_.emplace(std::string(word), std::vector<std::int32_t>(ids.begin() + first, ids.end()));
    }
  }

  void merge_word(std::string_view word, std::vector<std::int32_t>& ids) const {
    const std::size_t n = word.size();
    if (n == 1) {
      push_symbol(byte_ids_[static_cast<unsigned char>(word[0])], ids);
      return;
    }
    // Symbols in a doubly linked list; a merge folds the right symbol into the left.
    std::vector<std::int32_t> sym(n), prev(n), next(n);
    for (std::size_t i = 0; i < n; ++i) {
      sym[i] = byte_ids_[static_cast<unsigned char>(word[i])];
      prev[i] = static_cast<std::int32_t>(i) - 1;
      next[i] = i + 1 < n ? static_cast<std::int32_t>(i + 1) : -1;
    }
    struct Candidate {
      std::int32_t rank, pos, left, right, merged;
      bool operator>(const Candidate& o) const {
        return rank != o.rank ? rank > o.rank : pos > o.pos;
      }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    const auto consider = [&](std::int32_t pos) {
      const std::int32_t right = next[static_cast<std::size_t>(pos)];
      if (right < 0) return;
      const std::int32_t a = sym[static_cast<std::size_t>(pos)];
      const std::int32_t b = sym[static_cast<std::size_t>(right)];
      if (a < 0 || b < 0) return;
      if (const auto it = merges_.find(pair_key(a, b)); it != merges_.end()) {
        queue.push({it->second.rank, pos, a, b, it->second.new_id});
      }
    };
    for (std::size_t i = 0; i + 1 < n; ++i) consider(static_cast<std::int32_t>(i));
    std::vector<bool> dead(n, false);
    while (!queue.empty()) {
      const Candidate top = queue.top();
      queue.pop();
      const auto pos = static_cast<std::size_t>(top.pos);
      if (dead[pos] || sym[pos] != top.left) continue;
      const std::int32_t right = next[pos];
      if (right < 0 || sym[static_cast<std::size_t>(right)] != top.right) continue;
      sym[pos] = top.merged;
      dead[static_cast<std::size_t>(right)] = true;
      next[pos] = next[static_cast<std::size_t>(right)];
      if (next[pos] >= 0) prev[static_cast<std::size_t>(next[pos])] = top.pos;
      if (prev[pos] >= 0) consider(prev[pos]);
      consider(top.pos);
    }
    for (std::int32_t i = 0; i >= 0; i = next[static_cast<std::size_t>(i)]) {
      push_symbol(sym[static_cast<std::size_t>(i)], ids);
    }
  }

  void push_symbol(std::int32_t id, std::vector<std::int32_t>& ids) const {
    if (id >= 0) {
      ids.push_back(id);
    } else if (specials_.unknown >= 0) {
      ids.push_back(specials_.unknown);
    }
  }

  static constexpr std::size_t kMaxCacheEntries = 1 << 17;

  Vocab vocab_;
  std::vector<const std::string*> id_to_token_;
  std::unordered_map<std::uint64_t, Merge> merges_;
  std::array<std::int32_t, 256> byte_ids_{};
  SpecialTokens specials_;
  std::vector<detail::AtomicToken> atomic_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>, StringHash, std::equal_to<>>
      cache_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_bpe_tokenizer(const std::filesystem::path& vocab_json,
                                              const std::filesystem::path& merges_txt) {
  return std::make_unique<BpeTokenizer>(vocab_json, merges_txt);
}

MEZO_END_NAMESPACE
