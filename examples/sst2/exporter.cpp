#include "exporter.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "data.hpp"
#include "evaluation.hpp"
#include "mezo/model/causal_lm.hpp"
#include "optimizer_choice.hpp"
#include "saved_run.hpp"
#include "task.hpp"

namespace sst2 {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, message);
}

mezo::GgmlType gguf_type(const std::string& name) {
  if (name == "f32") return mezo::GgmlType::f32;
  if (name == "f16") return mezo::GgmlType::f16;
  if (name == "q8_0") return mezo::GgmlType::q8_0;
  fail(fmt::format("--type '{}': expected f32, f16 or q8_0", name));
}

// Writes `model` to `to`: a GGUF file (a causal LM from a GGUF file, whose
// tokenizer save_gguf carries over), or a Hugging Face folder (a model from
// a folder, whose tokenizer files are copied beside the weights).
void write_model(const mezo::LanguageModel& model, const TrainOptions& o, const ExportOptions& e) {
  if (e.to.extension() == ".gguf") {
    const auto* causal = dynamic_cast<const mezo::CausalLM*>(&model);
    if (causal == nullptr) {
      fail(fmt::format("--to {}: GGUF export is for causal LMs; give a folder for this {}",
                       e.to.string(), mezo::to_string(model.family())));
    }
    if (fs::is_directory(o.model_dir)) {
      fail(
          fmt::format("--to {}: the run's model is a Hugging Face folder, whose tokenizer a GGUF "
                      "export does not carry yet; give a folder",
                      e.to.string()));
    }
    causal->save_gguf(e.to, gguf_type(e.type));
    return;
  }
  if (!fs::is_directory(o.model_dir)) {
    fail(
        fmt::format("--to {}: the run's model is a GGUF file, whose tokenizer only a GGUF "
                    "export carries; give a path ending in .gguf",
                    e.to.string()));
  }
  model.save_pretrained(e.to);
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                           "vocab.txt", "vocab.json", "merges.txt"}) {
    if (fs::exists(o.model_dir / name)) {
      fs::copy_file(o.model_dir / name, e.to / name, fs::copy_options::overwrite_existing);
    }
  }
}

}  // namespace

int export_run(const ExportOptions& e) {
  TrainOptions cli;
  cli.out_dir = e.run;
  RunStart run = start_run(cli, /*resume=*/true);
  TrainOptions& o = run.options;
  if (e.threads > 0) o.threads = e.threads;
  if (o.peft == "prefix") {
    fail(
        fmt::format("{} is a --peft prefix run: its trained keys and values have no place in a "
                    "model file (GGUF and Hugging Face checkpoints hold weights only); export "
                    "writes full-parameter and LoRA runs",
                    e.run.string()));
  }
  const RunState& state = run.state;
  if (state.best_step < 0) fail(fmt::format("{} has no dev evaluation yet", e.run.string()));

  const auto perturbation = make_perturbation(o);
  load_checked(o, run.previous);  // checks the model is the run's, before any replay
  const auto best = load_weights_at(o, *perturbation, state.best_step);
  // LoRA: the factors folded into the weights they adapt, so that the file is
  // a plain model. Its test accuracy may differ from the run's by a rare
  // flip: W + s·B·A is rounded once more than the run's x·W + s·(x·A)·B.
  if (o.peft == "lora") best->merge_lora();
  std::fprintf(stderr, "writing %s\n", e.to.c_str());
  write_model(*best, o, e);

  std::fprintf(stderr, "measuring test accuracy from %s\n", e.to.c_str());
  const auto tokenizer = mezo::load_tokenizer(e.to);
  const auto exported = mezo::load_model(e.to, model_options(o));
  const Task task = make_task(*exported, *tokenizer, o);
  const RunData data = load_data(o);
  // As many test examples as the run evaluated (--max-eval-examples), to compare.
  const auto test = encode_all(data.test, *task.prompt, o.max_eval_examples);
  const double accuracy_of_file = task.evaluate(test).accuracy;

  nlohmann::json line = {{"exported", fs::absolute(e.to).string()},
                         {"type", e.type},
                         {"weights_after_steps", state.best_step},
                         {"test_accuracy", accuracy_of_file},
                         {"test_examples", test.size()}};
  if (run.previous && run.previous->contains("result")) {
    line["run_test_accuracy"] = run.previous->at("result").at("test_accuracy");
  }
  std::fprintf(stderr, "test %s of %s: %.1f%% (%zu examples)\n", task.metric(), e.to.c_str(),
               100 * accuracy_of_file, test.size());
  std::printf("%s\n", line.dump().c_str());
  return 0;
}

}  // namespace sst2
