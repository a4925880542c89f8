// load_tokenizer: picks the tokenizer of a model (a GGUF file or a folder) from its files.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <system_error>

#include "file_io.hpp"
#include "json_text.hpp"
#include "mezo/error.hpp"
#include "mezo/io/gguf.hpp"
#include "mezo/text/tokenizer.hpp"
#include "text/hf_tokenizer_json.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

bool is_file(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

// Reads an optional boolean field; null or absent leaves `value` unchanged.
bool read_flag(const nlohmann::json& config, const char* key, const std::filesystem::path& path,
               bool& value) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("'{}': \"{}\" must be true, false or null, not {}", path.string(), key,
                            it->dump()));
  }
  value = it->get<bool>();
  return true;
}

WordPieceOptions wordpiece_options(const std::filesystem::path& config_path) {
  WordPieceOptions options;
  if (!is_file(config_path)) return options;
  const std::string bytes = detail::read_file(config_path);
  const nlohmann::json config = detail::parse_json_text(bytes, config_path);
  if (!config.is_object()) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("'{}' must be a JSON object", config_path.string()));
  }
  read_flag(config, "do_lower_case", config_path, options.lower_case);
  // strip_accents follows do_lower_case unless given.
  options.strip_accents = options.lower_case;
  read_flag(config, "strip_accents", config_path, options.strip_accents);
  read_flag(config, "tokenize_chinese_chars", config_path, options.split_chinese_chars);
  return options;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& model) {
  if (model.extension() == ".gguf" && is_file(model)) {
    return load_gguf_tokenizer(GgufFile::open(model));
  }
  const auto vocab_json = model / "vocab.json";
  const auto merges_txt = model / "merges.txt";
  const auto tokenizer_json = model / "tokenizer.json";
  const auto vocab_txt = model / "vocab.txt";
  if (is_file(vocab_json) && is_file(merges_txt)) return load_bpe_tokenizer(vocab_json, merges_txt);
  // A WordPiece tokenizer.json (all-MiniLM-L6-v2 has one) falls through to vocab.txt.
  if (is_file(tokenizer_json)) {
    if (auto bpe = detail::load_hf_tokenizer_json_if_bpe(tokenizer_json)) return bpe;
  }
  if (is_file(vocab_txt)) {
    return load_wordpiece_tokenizer(vocab_txt, wordpiece_options(model / "tokenizer_config.json"));
  }
  std::error_code ec;
  const bool exists = std::filesystem::is_directory(model, ec);
  throw Error(exists ? ErrorCode::invalid_argument : ErrorCode::io,
              fmt::format("no tokenizer in '{}'{}: looked for a .gguf file, vocab.json + "
                          "merges.txt (byte-level BPE), tokenizer.json (byte-level BPE) and "
                          "vocab.txt (WordPiece){}",
                          model.string(), exists ? "" : " (no such folder)",
                          is_file(vocab_json)   ? "; vocab.json is there but merges.txt is not"
                          : is_file(merges_txt) ? "; merges.txt is there but vocab.json is not"
                                                : ""));
}

MEZO_END_NAMESPACE
