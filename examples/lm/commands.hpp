// The subcommands of mezo-lm, one file each. Each returns the exit status and
// throws mezo::Error (printed by main) for bad input.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mezo/model/language_model.hpp>
#include <mezo/text/tokenizer.hpp>
#include <span>
#include <string>
#include <vector>

namespace lm {

struct Common {
  std::filesystem::path model;  // HF folder or .gguf file
  int threads = 0;
  std::string compute = "fp32";  // the projections' arithmetic (mezo::ComputePrecision)
};

int info(const Common& common);
int tokenize(const Common& common, const std::string& text);
int top(const Common& common, const std::string& prompt, int k);

struct PerplexityOptions {
  std::filesystem::path text_file;  // tokenized whole (BOS added if the model's tokenizer adds one)
  std::filesystem::path ids_file;   // one sequence of ids per line, used as given
  std::int64_t context = 0;         // window length; 0 = min(model's maximum, 1024)
  std::int64_t batch_tokens = 1024;  // tokens per forward (windows are grouped up to this)
};
int perplexity(const Common& common, const PerplexityOptions& options);

struct GenerateOptions {
  std::string prompt;                // the prompt text, or
  std::filesystem::path prompt_file;  // a file holding it (UTF-8, used as it is)
  std::int64_t max_tokens = 128;
  float temperature = 0.0f;  // 0 = greedy
  std::int64_t top_k = 0;    // 0 = every token
  std::uint64_t seed = 0;
  bool chat = false;  // wrap the prompt in the model's chat template (ChatML)
  bool show_prompt = false;  // print the prompt as the model reads it (text and ids) on stderr
};
int generate(const Common& common, const GenerateOptions& options);

// chat_prompt.cpp: `user_text` as one user turn of the model's chat template
// (GGUF tokenizer.chat_template or tokenizer_config.json's chat_template),
// ready for the assistant's answer, and the ids that end that answer. Only
// ChatML templates (<|im_start|>role\n...<|im_end|>: SmolLM2, Qwen2) are
// recognised, with the system turn the template adds when there is none;
// throws mezo::Error for a model without a template or with another one.
struct ChatPrompt {
  std::string text;
  std::vector<std::int32_t> stop_ids;
};
ChatPrompt chat_prompt(const std::filesystem::path& model, const mezo::Tokenizer& tokenizer,
                       const std::string& user_text);

// loading.cpp: the model and its tokenizer (the GGUF file's own, or the
// folder's tokenizer files), each when asked for. Prints what it loads, and
// how long it took, on stderr.
struct Loaded {
  std::unique_ptr<mezo::LanguageModel> model;
  std::unique_ptr<mezo::Tokenizer> tokenizer;
};
Loaded load(const Common& common, bool with_model, bool with_tokenizer);
// The prompt's ids as the model expects them: BOS first if its tokenizer adds one.
std::vector<std::int32_t> encode_for_model(const mezo::Tokenizer& tokenizer,
                                           const std::string& text);

// log Σ exp(logits), in double, for log-probabilities of a logit row.
inline double log_sum_exp(std::span<const float> logits) {
  double max = -INFINITY;
  for (const float x : logits) max = std::max(max, static_cast<double>(x));
  double sum = 0.0;
  for (const float x : logits) sum += std::exp(static_cast<double>(x) - max);
  return max + std::log(sum);
}

// text_output.cpp: `text` with control characters and invalid UTF-8 escaped,
// in double quotes, for printing tokens.
std::string quoted(const std::string& text);

}  // namespace lm
