#include "report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/resource.h>

#include <cstdio>

#include "evaluation.hpp"
#include "optimizer_choice.hpp"

namespace sst2 {
namespace {

std::string peft_description(const TrainOptions& o) {
  if (o.peft == "lora")
    return fmt::format("LoRA r={} alpha={} on {}", o.lora_rank, o.lora_alpha,
                       fmt::join(o.lora_targets, ","));
  if (o.peft == "prefix")
    return fmt::format("prefix tuning, {} tokens, {} init", o.prefix_tokens, o.prefix_init);
  return "full-parameter";
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// `text` on one line: newlines as \n (a task's template has them).
std::string one_line(const std::string& text) {
  std::string out;
  for (const char c : text) out += c == '\n' ? std::string("\\n") : std::string(1, c);
  return out;
}

}  // namespace

std::string untrained_evaluation(const TrainOptions& o) {
  return o.demos > 0 ? fmt::format("in-context ({} demonstrations)", o.demos) : "zero-shot";
}

void print_run_header(const TrainOptions& o, const mezo::LanguageModel& model, const Task& task,
                      std::uint64_t trainable_parameters, const RunData& data,
                      std::size_t train_examples, std::size_t dev_examples,
                      std::size_t test_examples) {
  std::fprintf(stderr,
               "%s %s, %s: %llu trainable parameters (%llu in the model), head %s, %zu train / "
               "%zu dev / %zu test (%s)\n",
               model.architecture(), o.model_dir.filename().c_str(), peft_description(o).c_str(),
               static_cast<unsigned long long>(trainable_parameters),
               static_cast<unsigned long long>(model.params().num_elements()), task.scorer->name(),
               train_examples, dev_examples, test_examples, data.description.c_str());
  std::fprintf(stderr, "prompt '%s', label words '%s'\n", one_line(o.prompt.template_text).c_str(),
               fmt::format("{}", fmt::join(o.prompt.label_words, "', '")).c_str());
  if (o.optimizer != "zo-sgd") {
    std::fprintf(stderr, "optimizer %s: lr %g, eps %g, %d forwards a step\n", o.optimizer.c_str(),
                 o.lr, o.eps, forwards_per_step(o));
  }
  if (o.compute != "fp32") {
    std::fprintf(stderr, "compute %s: the layers' matrix products on %s inputs, fp32 weights\n",
                 o.compute.c_str(), o.compute.c_str());
  }
  if (train_examples < static_cast<std::size_t>(o.batch_size)) {
    std::fprintf(stderr,
                 "batch %d > %zu training examples: every step uses the whole training set\n",
                 o.batch_size, train_examples);
  }
}

nlohmann::json result_json(const TrainOptions& o, const RunState& state,
                           const RunSummary& summary) {
  // A generation task's "accuracy" fields hold its F1 ("metric").
  nlohmann::json result = {{"metric", summary.test_exact_match ? "f1" : "accuracy"},
                           {"zero_shot_dev_accuracy", state.zero_shot_dev},
                           {"zero_shot_test_accuracy", state.zero_shot_test},
                           {"zero_shot_calibrated", state.zero_shot_calibrated},
                           {"best_dev_accuracy", state.best_dev},
                           {"best_step", state.best_step},
                           {"test_accuracy", summary.test_accuracy},
                           {"test_answered", summary.test_answered},
                           {"test_gold", summary.test_gold},
                           {"test_examples", summary.test_examples},
                           {"data", summary.data},
                           {"steps", state.steps_done},
                           {"peft", o.peft},
                           {"trainable_parameters", summary.trainable_parameters},
                           {"steps_this_session", summary.steps_this_session},
                           {"steps_per_s_this_session", summary.steps_per_second},
                           {"elapsed_s_this_session", summary.seconds},
                           {"peak_rss_mib", peak_rss_mib()}};
  if (summary.test_exact_match) result["test_exact_match"] = *summary.test_exact_match;
  return result;
}

void print_summary(const TrainOptions& o, const RunData& data, const Task& task,
                   const RunState& state, const RunSummary& summary) {
  // A --resume of a finished run takes no steps: it has no speed to report.
  const std::string speed = summary.steps_this_session > 0
                                ? fmt::format("{} steps at {:.2f} steps/s",
                                              summary.steps_this_session, summary.steps_per_second)
                            : o.steps == 0
                                ? untrained_evaluation(o) + " only (--steps 0)"
                                : std::string("no steps this session (the run had finished)");
  const nlohmann::json& c = state.zero_shot_calibrated;
  const std::string calibrated = c.is_object()
                                     ? fmt::format("  (calibrated: dev {:.1f}%  test {:.1f}%)",
                                                   100 * c.at("dev_accuracy").get<double>(),
                                                   100 * c.at("test_accuracy").get<double>())
                                     : "";
  const std::string answers =
      summary.test_exact_match
          ? fmt::format("exact match {:.1f}% (F1 and exact match: SQuAD's official definitions)",
                        100 * *summary.test_exact_match)
          : fmt::format("{} (right answers: {})",
                        describe_shares(o.prompt.label_words, summary.test_answered),
                        describe_shares(o.prompt.label_words, summary.test_gold));
  std::printf(
      "%s%s, %s head, %s objective, %lld steps (lr %g, eps %g)%s\n"
      "  trained:    %s, %llu parameters (weight decay %g)\n"
      "  %s:  dev %.1f%%  test %.1f%%%s\n"
      "  best dev:   %.1f%% at step %lld\n"
      "  test (best-by-dev weights): %.1f%%\n"
      "  test answers: %s\n"
      "  %s, %.0f s this session, peak memory %.0f MiB\n"
      "  run folder: %s (plot: tools/plot_learning_curve.sh %s)\n",
      o.task == "sst2" ? "SST-2 " : "", data.description.c_str(), task.scorer->name(),
      o.objective.c_str(), static_cast<long long>(state.steps_done), o.lr, o.eps,
      task.generator ? "; metric F1" : "", peft_description(o).c_str(),
      static_cast<unsigned long long>(summary.trainable_parameters), o.weight_decay,
      untrained_evaluation(o).c_str(), 100 * state.zero_shot_dev, 100 * state.zero_shot_test,
      calibrated.c_str(), 100 * state.best_dev, static_cast<long long>(state.best_step),
      100 * summary.test_accuracy, answers.c_str(), speed.c_str(), summary.seconds, peak_rss_mib(),
      o.out_dir.c_str(), (o.out_dir / "metrics.jsonl").c_str());
}

}  // namespace sst2
