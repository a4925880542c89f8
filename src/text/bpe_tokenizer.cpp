// RoBERTa / GPT-2 byte-level BPE from vocab.json + merges.txt, matching Hugging
// Face's RobertaTokenizerFast: the files are read here, the tokenizing is the
// shared byte-level BPE engine's (byte_level_bpe.hpp) with the GPT-2
// pre-tokenizer and RoBERTa's special tokens.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "file_io.hpp"
#include "json_text.hpp"
#include "mezo/error.hpp"
#include "mezo/text/tokenizer.hpp"
#include "text/byte_level_bpe.hpp"
#include "text/vocab_object.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

// merges.txt: one "left right" a line after an optional "#version" line.
// Records each merge's line number for messages.
std::vector<detail::BpeMerge> read_merges_txt(const std::filesystem::path& path,
                                              std::vector<std::size_t>& line_numbers) {
  const std::string bytes = detail::read_file(path);
  std::vector<detail::BpeMerge> merges;
  std::size_t pos = 0;
  std::size_t line_number = 0;
  while (pos < bytes.size()) {
    std::size_t eol = bytes.find('\n', pos);
    if (eol == std::string::npos) eol = bytes.size();
    std::string_view line(bytes.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.starts_with("#version")) continue;
    if (!detail::split_merge(line, merges.emplace_back())) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("'{}' line {}: a merge must be two tokens separated by one "
                              "space, got \"{}\"",
                              path.string(), line_number, line));
    }
    line_numbers.push_back(line_number);
  }
  return merges;
}

}  // namespace

std::unique_ptr<Tokenizer> load_bpe_tokenizer(const std::filesystem::path& vocab_json,
                                              const std::filesystem::path& merges_txt) {
  detail::ByteLevelBpeModel model;
  {
    const std::string bytes = detail::read_file(vocab_json);
    model.tokens = detail::tokens_by_id(detail::parse_json_text(bytes, vocab_json),
                                        fmt::format("'{}'", vocab_json.string()));
  }
  std::vector<std::size_t> line_numbers;
  model.merges = read_merges_txt(merges_txt, line_numbers);
  model.source = fmt::format("'{}'", merges_txt.string());
  model.tokens_field = fmt::format("'{}'", vocab_json.string());
  model.merge_location = [line_numbers = std::move(line_numbers)](std::size_t rank) {
    return fmt::format("line {}", line_numbers[rank]);
  };
  model.pre = BpePreTokenizer::gpt2;
  model.token_types.assign(model.tokens.size(), detail::kTokenNormal);
  const auto id_of = [&](std::string_view token) -> std::int32_t {
    for (std::size_t i = 0; i < model.tokens.size(); ++i) {
      if (model.tokens[i] == token) return static_cast<std::int32_t>(i);
    }
    return -1;
  };
  model.special.begin = id_of("<s>");
  model.special.end = id_of("</s>");
  model.special.pad = id_of("<pad>");
  model.special.unknown = id_of("<unk>");
  model.special.mask = id_of("<mask>");
  // RoBERTa's added tokens: all kept whole, <mask> also takes the whitespace before it.
  for (const auto& [text, lstrip] : {std::pair{"<s>", false},
                                     {"</s>", false},
                                     {"<pad>", false},
                                     {"<unk>", false},
                                     {"<mask>", true}}) {
    const std::int32_t id = id_of(text);
    if (id < 0) continue;
    model.atomic.push_back({text, id, lstrip, false});
    model.token_types[static_cast<std::size_t>(id)] = detail::kTokenControl;
  }
  return detail::make_byte_level_bpe(std::move(model));
}

MEZO_END_NAMESPACE
