// mezo-lm: look at a model before training it.
//
//   mezo-lm info       --model PATH
//   mezo-lm tokenize   --model PATH --text T
//   mezo-lm top        --model PATH --prompt T [--k 5]
//   mezo-lm perplexity --model PATH (--text-file F | --ids-file F) [--threads N]
//   mezo-lm generate   --model PATH (--prompt T | --prompt-file F) [--max-tokens N]
//                      [--temperature T] [--top-k K] [--seed S] [--chat] [--show-prompt]
//   (every command also takes --threads N and --compute fp32|bf16)
//
// PATH is a Hugging Face folder (config.json + safetensors) of an encoder
// (roberta, bert) or a decoder (llama, qwen2), or a GGUF file of a decoder.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <mezo/error.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "mezo-lm: inspect a language model libmezo can train (a Hugging Face folder or a GGUF "
      "file)"};
  app.require_subcommand(1);
  lm::Common common;
  const auto add_common = [&](CLI::App* sub) {
    sub->add_option("--model", common.model,
                    "Hugging Face folder (config.json + model.safetensors) or .gguf file")
        ->required();
    sub->add_option("--threads", common.threads, "CPU threads (0 = all)")
        ->check(CLI::NonNegativeNumber);
    sub->add_option("--compute", common.compute,
                    "fp32, or bf16: the layers' matrix products on bf16 inputs with fp32 "
                    "accumulation (oneDNN), weights kept in fp32")
        ->check(CLI::IsMember({"fp32", "bf16"}))
        ->capture_default_str();
  };

  CLI::App* info =
      app.add_subcommand("info", "family, shapes, parameters, stored tensor types, tokenizer");
  add_common(info);

  std::string text;
  CLI::App* tokenize = app.add_subcommand("tokenize", "the ids and pieces of a text");
  add_common(tokenize);
  tokenize->add_option("--text", text, "the text to tokenize")->required();

  std::string prompt;
  int k = 5;
  CLI::App* top = app.add_subcommand(
      "top", "the k most likely next tokens after a prompt, with their log-probabilities");
  add_common(top);
  top->add_option("--prompt", prompt,
                  "the prompt (the model's BOS is added if its tokenizer adds one)")
      ->required();
  top->add_option("--k", k, "how many tokens")->check(CLI::PositiveNumber);

  lm::PerplexityOptions ppl;
  CLI::App* perplexity = app.add_subcommand(
      "perplexity",
      "mean negative log-likelihood per predicted token; the last line on stdout is JSON with "
      "\"tokens\" and \"nll\" (natural log), progress goes to stderr");
  add_common(perplexity);
  auto* text_file = perplexity->add_option(
      "--text-file", ppl.text_file,
      "a UTF-8 text, tokenized whole (BOS added if the model's tokenizer adds one) and cut into "
      "windows of --context tokens");
  auto* ids_file = perplexity->add_option(
      "--ids-file", ppl.ids_file,
      "one sequence per line: whitespace-separated token ids, used as given (no BOS added)");
  text_file->excludes(ids_file);
  perplexity
      ->add_option("--context", ppl.context,
                   "window length in tokens; longer sequences are cut into windows scored "
                   "separately (0 = the model's maximum, at most 1024)")
      ->check(CLI::NonNegativeNumber);
  perplexity
      ->add_option("--batch-tokens", ppl.batch_tokens,
                   "tokens per forward pass (windows are grouped up to this)")
      ->check(CLI::PositiveNumber);

  lm::GenerateOptions gen;
  CLI::App* generate = app.add_subcommand(
      "generate",
      "the continuation of a prompt (decoders), greedy or sampled, printed as it is generated; "
      "it ends at the model's end-of-text token, --max-tokens or the model's last position");
  add_common(generate);
  auto* prompt_text =
      generate->add_option("--prompt", gen.prompt,
                           "the prompt (the model's BOS is added if its tokenizer adds one)");
  auto* prompt_file =
      generate->add_option("--prompt-file", gen.prompt_file, "a file holding the prompt (UTF-8)");
  prompt_text->excludes(prompt_file);
  generate->add_option("--max-tokens", gen.max_tokens, "at most this many new tokens")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  generate
      ->add_option("--temperature", gen.temperature,
                   "0: greedy (the most likely token); > 0: sampled from softmax(logits / T)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  generate->add_option("--top-k", gen.top_k, "sample among the k most likely tokens (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  generate->add_option("--seed", gen.seed, "the sampling seed (same seed, same text)")
      ->capture_default_str();
  generate->add_flag("--chat", gen.chat,
                     "wrap the prompt as one user turn of the model's chat template (ChatML "
                     "models such as SmolLM2-Instruct and Qwen2-Instruct) and stop at the end "
                     "of the answer");
  generate->add_flag("--show-prompt", gen.show_prompt,
                     "print the prompt as the model reads it (text, then ids) on stderr");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and exits 0; a bad option is exit 2, as in mezo-sst2
    // (CLI11's own codes, e.g. 105 for a value out of a set, say nothing to a script).
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (info->parsed()) return lm::info(common);
    if (tokenize->parsed()) return lm::tokenize(common, text);
    if (top->parsed()) return lm::top(common, prompt, k);
    if (generate->parsed()) {
      if (gen.prompt.empty() && gen.prompt_file.empty()) {
        std::fprintf(stderr, "mezo-lm generate: give --prompt or --prompt-file\n");
        return 2;
      }
      return lm::generate(common, gen);
    }
    if (ppl.text_file.empty() && ppl.ids_file.empty()) {
      std::fprintf(stderr, "mezo-lm perplexity: give --text-file or --ids-file\n");
      return 2;
    }
    return lm::perplexity(common, ppl);
  } catch (const mezo::Error& e) {
    std::fprintf(stderr, "mezo-lm: error (%s): %s\n", mezo::to_string(e.code()), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mezo-lm: error: %s\n", e.what());
    return 1;
  }
}
