#include <fmt/format.h>

#include <fstream>
#include <mezo/error.hpp>
#include <mezo/io/gguf.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"

namespace lm {

namespace {

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, "--chat: " + message);
}

// The Jinja chat template the model ships: GGUF tokenizer.chat_template, or
// tokenizer_config.json's "chat_template" in a Hugging Face folder.
std::string read_template(const std::filesystem::path& model) {
  std::error_code ec;
  if (!std::filesystem::is_directory(model, ec)) {
    const mezo::GgufFile file = mezo::GgufFile::open(model);
    const mezo::GgufValue* value = file.find("tokenizer.chat_template");
    if (value == nullptr || value->type != mezo::GgufValueType::string)
      fail(fmt::format("{} has no tokenizer.chat_template", model.string()));
    return value->string;
  }
  const auto config_path = model / "tokenizer_config.json";
  std::ifstream in(config_path);
  if (!in) fail(fmt::format("{} has no tokenizer_config.json", model.string()));
  const auto config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object() || !config.contains("chat_template") ||
      !config["chat_template"].is_string())
    fail(fmt::format("{} has no \"chat_template\" string", config_path.string()));
  return config["chat_template"].get<std::string>();
}

// The text of a quoted Jinja string literal starting at template_[open]
// (' or "), with \n, \t, \\ and the quotes unescaped; `end` is set past it.
std::string string_literal(const std::string& text, std::size_t open, std::size_t& end) {
  const char quote = text[open];
  std::string out;
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    if (text[i] == quote) {
      end = i + 1;
      return out;
    }
    if (text[i] == '\\' && i + 1 < text.size()) {
      const char e = text[++i];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      continue;
    }
    out += text[i];
  }
  end = text.size();
  return out;
}

// The system turn a ChatML template writes when the messages have none: the
// one string literal that is a whole system turn (SmolLM2's "You are a
// helpful AI assistant named SmolLM...", Qwen2.5's "You are Qwen..."), or "".
std::string default_system_turn(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\'' && text[i] != '"') continue;
    std::size_t end = i;
    const std::string literal = string_literal(text, i, end);
    if (literal.starts_with("<|im_start|>system\n") && literal.ends_with("<|im_end|>\n"))
      return literal;
    i = end - 1;
  }
  return "";
}

}  // namespace

ChatPrompt chat_prompt(const std::filesystem::path& model, const mezo::Tokenizer& tokenizer,
                       const std::string& user_text) {
  const std::string chat_template = read_template(model);
  // ChatML is the one format recognised; a Jinja interpreter for every
  // template is out of this example's scope.
  if (chat_template.find("<|im_start|>") == std::string::npos ||
      chat_template.find("<|im_end|>") == std::string::npos) {
    fail("the model's chat template is not ChatML (<|im_start|>role ... <|im_end|>), the only "
         "format mezo-lm knows; format the prompt yourself and leave out --chat");
  }
  const std::int32_t end_of_turn = tokenizer.token_to_id("<|im_end|>");
  if (end_of_turn < 0) fail("the vocabulary has no <|im_end|> token");
  ChatPrompt out;
  out.text = default_system_turn(chat_template) + "<|im_start|>user\n" + user_text +
             "<|im_end|>\n<|im_start|>assistant\n";
  out.stop_ids = {end_of_turn};
  return out;
}

}  // namespace lm
