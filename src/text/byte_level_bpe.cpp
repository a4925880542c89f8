#include "text/byte_level_bpe.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <queue>
#include <unordered_map>
#include <utility>

#include "mezo/error.hpp"
#include "text/byte_level.hpp"
#include "text/pre_tokenizers.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
         static_cast<std::uint32_t>(b);
}

bool is_kept_whole(std::int32_t type) {
  return type == kTokenUnknown || type == kTokenControl || type == kTokenUserDefined;
}

// "<0x41>" → 0x41 (how byte tokens are spelled where a vocabulary has them), else -1.
int byte_token_value(std::string_view token) {
  if (token.size() != 6 || !token.starts_with("<0x") || token.back() != '>') return -1;
  int value = 0;
  for (const char c : token.substr(3, 2)) {
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

class ByteLevelBpe final : public Tokenizer {
 public:
  explicit ByteLevelBpe(ByteLevelBpeModel model)
      : tokens_(std::move(model.tokens)),
        types_(std::move(model.token_types)),
        pre_(model.pre),
        specials_(model.special),
        ignore_merges_(model.ignore_merges),
        nfc_(model.nfc),
        atomic_(std::move(model.atomic)) {
    check_types(model);
    index_tokens(model);
    index_merges(model);
    check_specials(model);
    const auto& unicode = byte_to_unicode();
    for (int b = 0; b < 256; ++b) {
      std::string s;
      append_utf8(s, unicode[b]);
      byte_ids_[b] = token_to_id(s);
    }
  }

  std::vector<std::int32_t> encode(std::string_view text) const override {
    std::vector<std::int32_t> ids;
    if (text.empty()) return ids;
    check_utf8(text, "text to encode");
    PieceRanges pieces;
    for (const TextPiece& piece : split_on_atomic_tokens(text, atomic_)) {
      if (piece.special_id >= 0) {
        ids.push_back(piece.special_id);
        continue;
      }
      std::string normalized;
      std::string_view segment = text.substr(piece.begin, piece.end - piece.begin);
      if (nfc_) {
        normalized = detail::nfc(segment);
        segment = normalized;
      }
      const DecodedText decoded = decode_utf8(segment);
      pieces.clear();
      pre_tokenize(pre_, decoded.cps, pieces);
      for (const auto& [b, e] : pieces) {
        encode_word(segment.substr(decoded.offsets[b], decoded.offsets[e] - decoded.offsets[b]),
                    ids);
      }
    }
    return ids;
  }

  std::string decode(std::span<const std::int32_t> ids) const override {
    std::string out;
    for (const std::int32_t id : ids) {
      const std::string& token = token_at(id);
      const std::int32_t type =
          types_.empty() ? kTokenNormal : types_[static_cast<std::size_t>(id)];
      if (is_kept_whole(type)) {
        out += token;  // special tokens are written as they read, not byte-spelled
      } else if (const int byte = type == kTokenByte ? byte_token_value(token) : -1; byte >= 0) {
        out.push_back(static_cast<char>(byte));
      } else {
        append_byte_level_bytes(out, token);
      }
    }
    return out;
  }

  std::int32_t token_to_id(std::string_view token) const override {
    const auto it = vocab_.find(token);
    return it == vocab_.end() ? -1 : it->second;
  }

  std::string id_to_token(std::int32_t id) const override { return token_at(id); }
  std::size_t vocab_size() const override { return tokens_.size(); }
  const SpecialTokens& special_tokens() const override { return specials_; }

 private:
  struct Merge {
    std::int32_t rank;
    std::int32_t new_id;
  };

  const std::string& token_at(std::int32_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= tokens_.size() ||
        tokens_[static_cast<std::size_t>(id)].empty()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("token id {} is not in the vocabulary ({} ids)", id, tokens_.size()));
    }
    return tokens_[static_cast<std::size_t>(id)];
  }

  void check_types(const ByteLevelBpeModel& model) const {
    if (!types_.empty() && types_.size() != tokens_.size()) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: {} token types for {} tokens", model.source, types_.size(),
                              tokens_.size()));
    }
    for (std::size_t i = 0; i < types_.size(); ++i) {
      if (types_[i] < kTokenUndefined || types_[i] > kTokenByte) {
        throw Error(ErrorCode::invalid_format,
                    fmt::format("{}: token {} has type {}; GGUF's types are 0 to 6", model.source,
                                i, types_[i]));
      }
    }
  }

  void index_tokens(const ByteLevelBpeModel& model) {
    vocab_.reserve(tokens_.size());
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      const std::string& token = tokens_[i];
      if (token.empty()) continue;
      check_utf8(token, fmt::format("{}: {} entry {}", model.source, model.tokens_field, i));
      const auto [it, inserted] = vocab_.emplace(token, static_cast<std::int32_t>(i));
      if (!inserted) {
        throw Error(ErrorCode::invalid_format,
                    fmt::format("{}: {} entries {} and {} are both \"{}\"", model.source,
                                model.tokens_field, it->second, i, token));
      }
    }
  }

  void index_merges(const ByteLevelBpeModel& model) {
    merges_.reserve(model.merges.size());
    std::string merged;
    for (std::size_t rank = 0; rank < model.merges.size(); ++rank) {
      const BpeMerge& m = model.merges[rank];
      merged.assign(m.left).append(m.right);
      const std::int32_t left = token_to_id(m.left);
      const std::int32_t right = token_to_id(m.right);
      const std::int32_t new_id = token_to_id(merged);
      if (left < 0 || right < 0 || new_id < 0) {
        throw Error(ErrorCode::invalid_format,
                    fmt::format("{}: {}: merge \"{} {}\" uses a token not in the vocabulary "
                                "(\"{}\")",
                                model.source,
                                model.merge_location ? model.merge_location(rank)
                                                     : fmt::format("merge {}", rank),
                                m.left, m.right,
                                left < 0    ? m.left
                                : right < 0 ? m.right
                                            : merged));
      }
      // A repeated pair takes its last rank, as in Hugging Face's tokenizers.
      merges_.insert_or_assign(pair_key(left, right),
                               Merge{static_cast<std::int32_t>(rank), new_id});
    }
  }

  void check_specials(const ByteLevelBpeModel& model) const {
    const std::pair<const char*, std::int32_t> ids[] = {{"begin", specials_.begin},
                                                        {"end", specials_.end},
                                                        {"pad", specials_.pad},
                                                        {"mask", specials_.mask},
                                                        {"unknown", specials_.unknown}};
    for (const auto& [name, id] : ids) {
      if (id != -1 && (id < 0 || static_cast<std::size_t>(id) >= tokens_.size() ||
                       tokens_[static_cast<std::size_t>(id)].empty())) {
        throw Error(ErrorCode::invalid_format,
                    fmt::format("{}: the {} token id {} is not in the vocabulary ({} ids)",
                                model.source, name, id, tokens_.size()));
      }
    }
    for (const AtomicToken& t : atomic_) {
      if (t.id < 0 || static_cast<std::size_t>(t.id) >= tokens_.size()) {
        throw Error(ErrorCode::invalid_format,
                    fmt::format("{}: special token \"{}\" has id {}, not in the vocabulary",
                                model.source, t.text, t.id));
      }
    }
  }

  // Byte-level BPE of one pre-tokenised piece (raw UTF-8 bytes), cached.
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
    const std::int32_t whole = ignore_merges_ ? token_to_id(byte_level_spelling(word)) : -1;
    if (whole >= 0) {
      ids.push_back(whole);
    } else {
      merge_word(word, ids);
    }
    if (word.size() <= kMaxCachedBytes) {
      std::lock_guard lock(cache_mutex_);
      if (cache_.size() >= kMaxCacheEntries) cache_.clear();
      cache_.emplace(std::string(word), std::vector<std::int32_t>(ids.begin() + first, ids.end()));
    }
  }

  // Applies the merges lowest rank first (leftmost among equals) until none applies.
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

  // A byte the vocabulary lacks becomes the unknown token, or nothing without one.
  void push_symbol(std::int32_t id, std::vector<std::int32_t>& ids) const {
    if (id >= 0) {
      ids.push_back(id);
    } else if (specials_.unknown >= 0) {
      ids.push_back(specials_.unknown);
    }
  }

  static constexpr std::size_t kMaxCacheEntries = 1 << 17;

  std::vector<std::string> tokens_;
  std::vector<std::int32_t> types_;
  StringMap<std::int32_t> vocab_;
  std::unordered_map<std::uint64_t, Merge> merges_;
  std::array<std::int32_t, 256> byte_ids_{};
  BpePreTokenizer pre_;
  SpecialTokens specials_;
  bool ignore_merges_;
  bool nfc_;
  std::vector<AtomicToken> atomic_;
  mutable std::mutex cache_mutex_;
  mutable StringMap<std::vector<std::int32_t>> cache_;
};

}  // namespace

bool split_merge(std::string_view merge, BpeMerge& out) {
  const std::size_t space = merge.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 == merge.size() ||
      merge.find(' ', space + 1) != std::string_view::npos) {
    return false;
  }
  out.left.assign(merge.substr(0, space));
  out.right.assign(merge.substr(space + 1));
  return true;
}

std::vector<AtomicToken> atomic_tokens_from_types(const ByteLevelBpeModel& model) {
  std::vector<AtomicToken> atomic;
  for (std::size_t i = 0; i < model.token_types.size() && i < model.tokens.size(); ++i) {
    if (is_kept_whole(model.token_types[i]) && !model.tokens[i].empty()) {
      atomic.push_back({model.tokens[i], static_cast<std::int32_t>(i), false, false});
    }
  }
  return atomic;
}

std::unique_ptr<Tokenizer> make_byte_level_bpe(ByteLevelBpeModel model) {
  return std::make_unique<ByteLevelBpe>(std::move(model));
}

}  // namespace detail

std::unique_ptr<Tokenizer> make_byte_level_bpe(ByteLevelBpeVocabulary vocab) {
  detail::ByteLevelBpeModel model;
  model.merges.resize(vocab.merges.size());
  for (std::size_t i = 0; i < vocab.merges.size(); ++i) {
    if (!detail::split_merge(vocab.merges[i], model.merges[i])) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("byte-level BPE vocabulary: merge {} (\"{}\") must be two tokens "
                              "separated by one space",
                              i, vocab.merges[i]));
    }
  }
  model.tokens = std::move(vocab.tokens);
  model.token_types = std::move(vocab.token_types);
  model.pre = vocab.pre;
  model.special = vocab.special;
  model.ignore_merges = vocab.ignore_merges;
  model.atomic = detail::atomic_tokens_from_types(model);
  return detail::make_byte_level_bpe(std::move(model));
}

MEZO_END_NAMESPACE
