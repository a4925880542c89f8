#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mezo/error.hpp>
#include <mezo/model/causal_lm.hpp>
#include <mezo/model/generation.hpp>
#include <sstream>

#include "commands.hpp"

namespace lm {

namespace {

std::string read_prompt(const GenerateOptions& options) {
  if (options.prompt_file.empty()) return options.prompt;
  std::ifstream in(options.prompt_file, std::ios::binary);
  if (!in) {
    throw mezo::Error(mezo::ErrorCode::io,
                      fmt::format("cannot read --prompt-file {}", options.prompt_file.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

// The continuation of a prompt, printed on stdout token by token as it is
// chosen; what was read and how fast goes to stderr.
int generate(const Common& common, const GenerateOptions& options) {
  Loaded loaded = load(common, /*with_model=*/true, /*with_tokenizer=*/false);
  auto* model = dynamic_cast<mezo::CausalLM*>(loaded.model.get());
  if (model == nullptr) {
    throw mezo::Error(mezo::ErrorCode::invalid_argument,
                      fmt::format("generate needs a decoder (llama, qwen2); {} is a {}",
                                  common.model.string(), mezo::to_string(loaded.model->family())));
  }
  loaded.tokenizer = mezo::load_tokenizer(common.model);
  const mezo::Tokenizer& tokenizer = *loaded.tokenizer;
  std::string text = read_prompt(options);
  mezo::GenerationOptions generation{.max_new_tokens = options.max_tokens,
                                     .temperature = options.temperature,
                                     .top_k = options.top_k,
                                     .seed = options.seed,
                                     .stop_ids = {}};
  if (options.chat) {
    ChatPrompt chat = chat_prompt(common.model, tokenizer, text);
    text = std::move(chat.text);
    generation.stop_ids = std::move(chat.stop_ids);
  }
  if (const std::int32_t end = tokenizer.special_tokens().end; end >= 0)
    generation.stop_ids.push_back(end);
  const auto prompt = encode_for_model(tokenizer, text);
  if (options.show_prompt) {
    fmt::print(stderr, "mezo-lm: prompt text: {}\nmezo-lm: prompt ids: {}\n", lm::quoted(text),
               fmt::join(prompt, " "));
  }
  fmt::print(stderr, "mezo-lm: prompt of {} tokens, {}\n", prompt.size(),
             options.temperature == 0.0f
                 ? std::string("greedy")
                 : fmt::format("sampled at temperature {} (top-k {}, seed {})",
                               options.temperature, options.top_k, options.seed));

  const auto start = std::chrono::steady_clock::now();
  auto first = start;
  std::size_t chosen = 0;
  const mezo::Generation result =
      mezo::generate(*model, prompt, generation, [&](std::int32_t id) {
        if (chosen++ == 0) first = std::chrono::steady_clock::now();
        // Stop tokens end the answer; they are not part of it.
        if (std::find(generation.stop_ids.begin(), generation.stop_ids.end(), id) !=
            generation.stop_ids.end())
          return;
        // Byte-level pieces concatenate to the whole text, so each token's
        // bytes can be written as they come.
        const std::string piece = tokenizer.decode({&id, 1});
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      });
  const auto done = std::chrono::steady_clock::now();
  std::fputc('\n', stdout);
  const std::chrono::duration<double> prefill = first - start, rest = done - first;
  fmt::print(stderr,
             "mezo-lm: {} tokens ({}); prompt read in {:.2f} s, then {:.1f} ms per token\n",
             result.ids.size(), mezo::to_string(result.stop), prefill.count(),
             result.ids.size() > 1 ? 1e3 * rest.count() / static_cast<double>(result.ids.size() - 1)
                                   : 0.0);
  return 0;
}

}  // namespace lm
