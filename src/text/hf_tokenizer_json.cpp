// Hugging Face tokenizer.json → the byte-level BPE engine. Only what changes
// the ids is read (model, added_tokens, normalizer, pre_tokenizer, the
// post-processor's leading special token); every part libmezo cannot
// reproduce exactly is refused by name rather than approximated.
#include "text/hf_tokenizer_json.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "file_io.hpp"
#include "json_text.hpp"
#include "mezo/error.hpp"
#include "text/byte_level_bpe.hpp"
#include "text/vocab_object.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

namespace {

using nlohmann::json;

// The Split regexes of Llama 3's and Qwen2's tokenizer.json (JSON-decoded).
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

class Reader {
 public:
  explicit Reader(std::filesystem::path path) : path_(std::move(path)) {}

  [[noreturn]] void fail(ErrorCode code, std::string_view message) const {
    throw Error(code, fmt::format("'{}': {}", path_.string(), message));
  }

  // A short rendering of a JSON value for messages.
  static std::string shown(const json& value) {
    std::string s = value.dump();
    if (s.size() > 300) s = s.substr(0, 300) + "...";
    return s;
  }

  const json& member(const json& object, const char* key, const char* where) const {
    if (!object.is_object())
      fail(ErrorCode::invalid_format, fmt::format("{} must be an object", where));
    const auto it = object.find(key);
    if (it == object.end()) {
      fail(ErrorCode::invalid_format, fmt::format("{} has no \"{}\"", where, key));
    }
    return *it;
  }

  // An optional member: nullptr when absent or null.
  static const json* optional(const json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }

  bool flag(const json& object, const char* key, bool fallback, const char* where) const {
    const json* value = optional(object, key);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) {
      fail(ErrorCode::invalid_format,
           fmt::format("{}.{} must be true or false, not {}", where, key, shown(*value)));
    }
    return value->get<bool>();
  }

  std::string string(const json& object, const char* key, const char* where) const {
    const json& value = member(object, key, where);
    if (!value.is_string()) {
      fail(ErrorCode::invalid_format,
           fmt::format("{}.{} must be a string, not {}", where, key, shown(value)));
    }
    return value.get<std::string>();
  }

  std::unique_ptr<Tokenizer> build(const json& root) const {
    const json& model_json = member(root, "model", "the file");
    ByteLevelBpeModel model;
    model.source = fmt::format("'{}'", path_.string());
    model.tokens_field = "model.vocab";
    read_model(model_json, model);
    read_added_tokens(root, model);
    read_normalizer(root, model);
    read_pre_tokenizer(root, model);
    read_begin_from_post_processor(root, model);
    read_tokenizer_config(model);
    return make_byte_level_bpe(std::move(model));
  }

 private:
  void read_model(const json& m, ByteLevelBpeModel& model) const {
    if (const json* dropout = optional(m, "dropout");
        dropout != nullptr && !(dropout->is_number() && dropout->get<double>() == 0.0)) {
      fail(ErrorCode::unsupported,
           fmt::format("model.dropout {} is not supported (BPE dropout is random)",
                       shown(*dropout)));
    }
    if (flag(m, "byte_fallback", false, "model")) {
      fail(ErrorCode::unsupported, "model.byte_fallback is not supported (not a byte-level BPE)");
    }
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      const json* affix = optional(m, key);
      if (affix != nullptr && !(affix->is_string() && affix->get<std::string>().empty())) {
        fail(
            ErrorCode::unsupported,
            fmt::format("model.{} {} is not supported (not a byte-level BPE)", key, shown(*affix)));
      }
    }
    model.ignore_merges = flag(m, "ignore_merges", false, "model");
    model.tokens =
        tokens_by_id(member(m, "vocab", "model"), fmt::format("'{}': model.vocab", path_.string()));
    const json& merges = member(m, "merges", "model");
    if (!merges.is_array()) {
      fail(ErrorCode::invalid_format,
           fmt::format("model.merges must be an array, not {}", merges.type_name()));
    }
    model.merges.resize(merges.size());
    for (std::size_t i = 0; i < merges.size(); ++i) {
      // "left right" (tokenizers < 0.20) or ["left", "right"] (later versions).
      const json& merge = merges[i];
      BpeMerge& out = model.merges[i];
      if (merge.is_string() && split_merge(merge.get_ref<const std::string&>(), out)) continue;
      if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string() &&
          !merge[0].get_ref<const std::string&>().empty() &&
          !merge[1].get_ref<const std::string&>().empty()) {
        out.left = merge[0].get<std::string>();
        out.right = merge[1].get<std::string>();
        continue;
      }
      fail(ErrorCode::invalid_format,
           fmt::format("model.merges[{}] must be \"left right\" or [\"left\", \"right\"], not {}",
                       i, shown(merge)));
    }
    model.merge_location = [](std::size_t rank) { return fmt::format("model.merges[{}]", rank); };
    if (const json* unk = optional(m, "unk_token")) {
      if (!unk->is_string()) {
        fail(ErrorCode::invalid_format,
             fmt::format("model.unk_token must be a string, not {}", shown(*unk)));
      }
      model.special.unknown = id_of(model, unk->get<std::string>(), "model.unk_token");
    }
  }

  std::int32_t id_of(const ByteLevelBpeModel& model, std::string_view token,
                     std::string_view where) const {
    for (std::size_t i = 0; i < model.tokens.size(); ++i) {
      if (model.tokens[i] == token) return static_cast<std::int32_t>(i);
    }
    fail(ErrorCode::invalid_format,
         fmt::format("{} \"{}\" is not in the vocabulary", where, token));
  }

  // Added tokens stay whole in the text; they may have ids beyond model.vocab
  // (Llama 3's specials are only here).
  void read_added_tokens(const json& root, ByteLevelBpeModel& model) const {
    const json* added = optional(root, "added_tokens");
    if (added == nullptr) return;
    if (!added->is_array()) {
      fail(ErrorCode::invalid_format,
           fmt::format("added_tokens must be an array, not {}", added->type_name()));
    }
    model.token_types.assign(model.tokens.size(), kTokenNormal);
    for (std::size_t i = 0; i < added->size(); ++i) {
      const json& t = (*added)[i];
      const std::string where = fmt::format("added_tokens[{}]", i);
      const json& id_json = member(t, "id", where.c_str());
      const std::string content = string(t, "content", where.c_str());
      if (!id_json.is_number_integer() || id_json.get<std::int64_t>() < 0 ||
          id_json.get<std::int64_t>() >= static_cast<std::int64_t>(model.tokens.size()) +
                                             static_cast<std::int64_t>(added->size())) {
        fail(ErrorCode::invalid_format,
             fmt::format("{}.id must be an id below the vocabulary's and added tokens' count, "
                         "not {}",
                         where, shown(id_json)));
      }
      if (content.empty())
        fail(ErrorCode::invalid_format, fmt::format("{}.content is empty", where));
      if (flag(t, "single_word", false, where.c_str())) {
        fail(
            ErrorCode::unsupported,
            fmt::format("{} (\"{}\"): single_word added tokens are not supported", where, content));
      }
      const auto id = id_json.get<std::size_t>();
      if (id >= model.tokens.size()) {
        model.tokens.resize(id + 1);
        model.token_types.resize(id + 1, kTokenNormal);
      }
      if (!model.tokens[id].empty() && model.tokens[id] != content) {
        fail(ErrorCode::invalid_format,
             fmt::format("{} gives id {} to \"{}\", which model.vocab gives to \"{}\"", where, id,
                         content, model.tokens[id]));
      }
      model.tokens[id] = content;
      model.token_types[id] =
          flag(t, "special", false, where.c_str()) ? kTokenControl : kTokenUserDefined;
      model.atomic.push_back({content, static_cast<std::int32_t>(id),
                              flag(t, "lstrip", false, where.c_str()),
                              flag(t, "rstrip", false, where.c_str())});
    }
  }

  void read_normalizer(const json& root, ByteLevelBpeModel& model) const {
    const json* n = optional(root, "normalizer");
    if (n == nullptr) return;
    if (n->is_object() && n->value("type", "") == "NFC") {
      model.nfc = true;
      return;
    }
    fail(ErrorCode::unsupported,
         fmt::format("normalizer {} is not supported (only none or NFC)", shown(*n)));
  }

  // Whether `p` is a ByteLevel pre-tokenizer without a prefix space, using its
  // GPT-2 regex or not as `use_regex` says.
  bool is_byte_level(const json& p, bool use_regex) const {
    return p.is_object() && p.value("type", "") == "ByteLevel" &&
           !flag(p, "add_prefix_space", true, "pre_tokenizer ByteLevel") &&
           flag(p, "use_regex", true, "pre_tokenizer ByteLevel") == use_regex;
  }

  void read_pre_tokenizer(const json& root, ByteLevelBpeModel& model) const {
    const json* p = optional(root, "pre_tokenizer");
    const json empty = json::array();
    const json* steps = &empty;
    json single = json::array();
    if (p != nullptr && p->is_object() && p->value("type", "") == "Sequence") {
      steps = &member(*p, "pretokenizers", "pre_tokenizer");
    } else if (p != nullptr) {
      single.push_back(*p);
      steps = &single;
    }
    if (steps->is_array() && steps->size() == 1 && is_byte_level((*steps)[0], true)) {
      model.pre = BpePreTokenizer::gpt2;
      return;
    }
    if (steps->is_array() && steps->size() == 2) {
      const json& first = (*steps)[0];
      const json& second = (*steps)[1];
      if (first.is_object() && first.value("type", "") == "Digits" &&
          flag(first, "individual_digits", false, "pre_tokenizer Digits") &&
          is_byte_level(second, true)) {
        model.pre = BpePreTokenizer::smollm;
        return;
      }
      if (first.is_object() && first.value("type", "") == "Split" &&
          first.value("behavior", "") == "Isolated" &&
          !flag(first, "invert", false, "pre_tokenizer Split") && is_byte_level(second, false)) {
        const json* pattern = optional(first, "pattern");
        const json* regex = pattern != nullptr ? optional(*pattern, "Regex") : nullptr;
        if (regex != nullptr && regex->is_string()) {
          const auto& r = regex->get_ref<const std::string&>();
          if (r == kLlama3Regex) {
            model.pre = BpePreTokenizer::llama3;
            return;
          }
          if (r == kQwen2Regex) {
            model.pre = BpePreTokenizer::qwen2;
            return;
          }
        }
      }
    }
    fail(ErrorCode::unsupported,
         fmt::format("pre_tokenizer {} is not supported; libmezo reads ByteLevel (GPT-2), "
                     "Sequence[Digits(individual_digits), ByteLevel] (SmolLM2) and "
                     "Sequence[Split(Llama 3's or Qwen2's regex), ByteLevel(use_regex=false)]",
                     p == nullptr ? std::string("none") : shown(*p)));
  }

  // A TemplateProcessing post-processor (alone or in a Sequence) whose single
  // template starts with a special token: the model's begin-of-sequence token.
  void read_begin_from_post_processor(const json& root, ByteLevelBpeModel& model) const {
    const json* post = optional(root, "post_processor");
    if (post == nullptr || !post->is_object()) return;
    std::vector<const json*> processors{post};
    if (post->value("type", "") == "Sequence") {
      processors.clear();
      if (const json* list = optional(*post, "processors"); list != nullptr && list->is_array()) {
        for (const json& p : *list) processors.push_back(&p);
      }
    }
    for (const json* p : processors) {
      if (!p->is_object() || p->value("type", "") != "TemplateProcessing") continue;
      const json* single = optional(*p, "single");
      if (single == nullptr || !single->is_array() || single->empty()) continue;
      const json* first = optional((*single)[0], "SpecialToken");
      if (first == nullptr) continue;
      const json* name = optional(*first, "id");
      if (name == nullptr || !name->is_string()) continue;
      model.special.begin = id_of(model, name->get<std::string>(), "post_processor's first token");
      model.special.add_begin = true;
    }
  }

  // tokenizer_config.json beside the file names the special tokens.
  void read_tokenizer_config(ByteLevelBpeModel& model) const {
    const std::filesystem::path config_path = path_.parent_path() / "tokenizer_config.json";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(config_path, ec)) return;
    const std::string bytes = read_file(config_path);
    const json config = parse_json_text(bytes, config_path);
    const std::string where = fmt::format("'{}'", config_path.string());
    if (!config.is_object()) {
      throw Error(ErrorCode::invalid_format, fmt::format("{} must be a JSON object", where));
    }
    const std::pair<const char*, std::int32_t*> fields[] = {{"bos_token", &model.special.begin},
                                                            {"eos_token", &model.special.end},
                                                            {"pad_token", &model.special.pad},
                                                            {"unk_token", &model.special.unknown}};
    for (const auto& [key, id] : fields) {
      const json* value = optional(config, key);
      if (value == nullptr) continue;
      // A string, or an AddedToken object {"content": ...}.
      const json* content = value->is_object() ? optional(*value, "content") : value;
      if (content == nullptr || !content->is_string()) {
        throw Error(ErrorCode::invalid_format,
                    fmt::format("{}: {} must be a string or {{\"content\": string}}, not {}", where,
                                key, shown(*value)));
      }
      *id = id_of(model, content->get<std::string>(), fmt::format("{} {}", where, key));
    }
    if (const json* add = optional(config, "add_bos_token")) {
      if (!add->is_boolean()) {
        throw Error(
            ErrorCode::invalid_format,
            fmt::format("{}: add_bos_token must be true or false, not {}", where, shown(*add)));
      }
      model.special.add_begin = add->get<bool>();
    }
  }

  std::filesystem::path path_;
};

json read_json(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  json root = parse_json_text(bytes, path);
  if (!root.is_object()) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("'{}' must be a JSON object, not {}", path.string(), root.type_name()));
  }
  return root;
}

std::string model_type(const json& root) {
  const auto model = root.find("model");
  if (model == root.end() || !model->is_object()) return "";
  return model->value("type", "");
}

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer_json_if_bpe(const std::filesystem::path& path) {
  const json root = read_json(path);
  if (model_type(root) != "BPE") return nullptr;
  return Reader(path).build(root);
}

}  // namespace detail

std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::filesystem::path& tokenizer_json) {
  const nlohmann::json root = detail::read_json(tokenizer_json);
  const std::string type = detail::model_type(root);
  if (type != "BPE") {
    throw Error(ErrorCode::unsupported,
                fmt::format("'{}': model.type is {}; load_hf_tokenizer_json reads only byte-level "
                            "\"BPE\" models",
                            tokenizer_json.string(),
                            type.empty() ? std::string("missing") : "\"" + type + "\""));
  }
  return detail::Reader(tokenizer_json).build(root);
}

MEZO_END_NAMESPACE
