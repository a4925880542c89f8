// `mezo-sst2 train` end to end; each step of it is a function below or a
// file of its own (data, task, training_loop, report).
#include "trainer.hpp"

#include <fmt/format.h>

#include <optional>

#include "cluster.hpp"
#include "data.hpp"
#include "evaluation.hpp"
#include "mezo/mezo.hpp"
#include "optimizer_choice.hpp"
#include "report.hpp"
#include "run_files.hpp"
#include "run_record.hpp"
#include "saved_run.hpp"
#include "task.hpp"
#include "training_loop.hpp"

namespace sst2 {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, message);
}

// The seed log of the run: created, or (resuming) cut after its last whole
// record and replayed onto the trainable weights, which then hold the state
// after that step. Returns the step to continue from.
std::int64_t open_seed_log(const TrainOptions& o, bool resume, const mezo::ParamSet& trainable,
                           const mezo::Perturbation& perturbation, mezo::Optimizer& optimizer,
                           const mezo::StepOptions& step_options,
                           std::optional<mezo::TrajectoryWriter>& writer) {
  const fs::path log_file = o.out_dir / "trajectory.mezotrj";
  if (!resume) {
    if (Cluster::root()) {
      writer = mezo::TrajectoryWriter::create(
          log_file, mezo::make_trajectory_header(optimizer, step_options, o.seed));
    }
    return 0;
  }
  // Rank 0 cuts a torn last record before any rank reads the log.
  if (Cluster::root()) writer = mezo::TrajectoryWriter::open_append(log_file);
  Cluster::barrier("seed log");
  const mezo::Trajectory log = mezo::read_trajectory(log_file);
  const std::int64_t first_step = log.records.empty() ? 0 : log.records.back().step + 1;
  std::fprintf(stderr, "resuming after step %lld: replaying the seed log\n",
               static_cast<long long>(first_step));
  mezo::replay(trainable, perturbation, log);
  mezo::resume_optimizer(optimizer, log);  // step count, schedule, AdaMeZO's past seeds
  return first_step;
}

// The test evaluation of the best-by-dev weights: the current ones, or a
// fresh copy of the model with the seed log replayed up to the best step.
Evaluation test_of_best(const TrainOptions& o, const mezo::Tokenizer& tokenizer,
                        const mezo::Perturbation& perturbation, const RunState& state,
                        const Task& current, const std::vector<EncodedExample>& test) {
  if (state.best_step == state.steps_done) return current.evaluate(test);
  const auto best = load_weights_at(o, perturbation, state.best_step);
  return make_task(*best, tokenizer, o).evaluate(test);
}

// "dev 61.2%, test 60.0%", with the metric's name for a generation task's F1.
std::string dev_and_test(const Task& task, double dev, const Evaluation& test) {
  if (!task.generator)
    return fmt::format("dev {:.1f}%, test {:.1f}%", 100 * dev, 100 * test.accuracy);
  return fmt::format("dev F1 {:.1f}%, test F1 {:.1f}% (exact match {:.1f}%)", 100 * dev,
                     100 * test.f1, 100 * test.exact_match);
}

}  // namespace

int train(const TrainOptions& cli, bool resume) {
  RunStart start = start_run(cli, resume);
  TrainOptions& o = start.options;
  if (resume) {
    std::fprintf(stderr, "resuming %s with the options it was started with (run.json)\n",
                 o.out_dir.c_str());
  }
  // Every rank has checked the run folder before rank 0 writes in it.
  Cluster::barrier("run folder checks");
  if (Cluster::root()) fs::create_directories(o.out_dir);

  const LoadedModel loaded = load_checked(o, start.previous);
  mezo::LanguageModel& model = *loaded.model;
  if (!resume) apply_defaults(o, model.family(), model.max_sequence_length());
  const Task task = make_task(model, *loaded.tokenizer, o);
  o.prompt.template_text = task.prompt->template_text();
  o.prompt.label_words = task.prompt->label_words();

  // Rank 0 writes a split the run folder lacks before the others look for it.
  if (!Cluster::root()) Cluster::barrier("data split");
  const RunData data = load_data(o);  // o.prompt holds the defaults in use
  if (Cluster::root()) Cluster::barrier("data split");
  if (o.was_given("--batch") && data.train.size() < static_cast<std::size_t>(o.batch_size)) {
    fail(
        fmt::format("--batch {} is larger than the {} training examples; pass --batch {} or less, "
                    "or leave --batch out (the default is capped at the training set, as "
                    "the paper's batch 64 is at k = 16)",
                    o.batch_size, data.train.size(), data.train.size()));
  }
  const mezo::ParamSet& trainable = trainable_params(model, o);
  const auto train_examples = encode_all(data.train, *task.prompt, 0);
  const auto dev_examples = encode_all(data.dev, *task.prompt, o.max_eval_examples);
  const auto test_examples = encode_all(data.test, *task.prompt, o.max_eval_examples);
  print_run_header(o, model, task, trainable.num_elements(), data, train_examples.size(),
                   dev_examples.size(), test_examples.size());

  const auto perturbation = make_perturbation(o);
  const std::unique_ptr<mezo::Optimizer> optimizer = make_optimizer(o, perturbation);
  const mezo::StepOptions step_options{.exact_restore = o.exact_restore};
  std::optional<mezo::TrajectoryWriter> seed_log;
  const std::int64_t first_step =
      open_seed_log(o, resume, trainable, *perturbation, *optimizer, step_options, seed_log);
  if (resume) start.state.steps_done = first_step;
  RunRecord record(o, loaded.digest, std::move(start.state), first_step);

  std::optional<Evaluation> zero_shot_test;  // the test of a --steps 0 run
  if (!resume) {
    const std::string untrained = untrained_evaluation(o);
    std::fprintf(stderr, "%s evaluation...\n", untrained.c_str());
    const Evaluation zero_shot_dev = task.evaluate(dev_examples);
    record.state().zero_shot_dev = zero_shot_dev.accuracy;
    zero_shot_test = task.evaluate(test_examples);
    record.state().zero_shot_test = zero_shot_test->accuracy;
    std::fprintf(stderr, "%s: %s%s\n", untrained.c_str(),
                 dev_and_test(task, zero_shot_dev.accuracy, *zero_shot_test).c_str(),
                 zero_shot_test->generated
                     ? ""
                     : fmt::format(" (answers {})",
                                   describe_shares(o.prompt.label_words, zero_shot_test->answered))
                           .c_str());
    if (!zero_shot_dev.margins.empty()) {
      const Calibration c = calibrate(zero_shot_dev, dev_examples, *zero_shot_test, test_examples);
      record.state().zero_shot_calibrated = {
          {"bias", c.bias}, {"dev_accuracy", c.dev_accuracy}, {"test_accuracy", c.test_accuracy}};
      std::fprintf(stderr,
                   "calibrated %s (bias %+.3f on the label margin, chosen on dev): dev "
                   "%.1f%%, test %.1f%%\n",
                   untrained.c_str(), c.bias, 100 * c.dev_accuracy, 100 * c.test_accuracy);
    }
    // --steps 0: the zero-shot model is the run's best (and only) one.
    if (o.steps == 0) record.record_dev(0, zero_shot_dev.accuracy);
    record.save();
  }
  // A run killed between a step and its evaluation evaluates on resume (the
  // last step is evaluated too when --steps is not a multiple of --eval-every).
  if (resume && first_step > 0 && (first_step % o.eval_every == 0 || first_step == o.steps) &&
      record.state().last_eval_step < first_step) {
    record.record_dev(first_step, task.evaluate(dev_examples).accuracy);
    // Recorded at once: a kill before the next evaluation's rewrite of
    // run.json must not lose this one (the next resume starts past it).
    record.save();
  }

  TrainingRun run{o,        trainable, *optimizer, step_options, task, train_examples, dev_examples,
                  seed_log, record};
  const double steps_per_second = run_steps(run, first_step);
  if (seed_log) seed_log->sync();
  Cluster::barrier("seed log complete");  // the other ranks may read it below

  const Evaluation test =
      o.steps == 0 && zero_shot_test
          ? *zero_shot_test
          : test_of_best(o, *loaded.tokenizer, *perturbation, record.state(), task, test_examples);
  const RunSummary summary{
      .test_accuracy = test.accuracy,
      .test_exact_match = test.generated ? std::optional<double>(test.exact_match) : std::nullopt,
      .test_answered = test.answered,
      .test_gold = test.generated ? std::vector<double>{}
                                  : label_shares(test_examples, task.scorer->num_labels()),
      .test_examples = test_examples.size(),
      .data = data.description,
      .trainable_parameters = trainable.num_elements(),
      .steps_this_session = record.state().steps_done - first_step,
      .steps_per_second = steps_per_second,
      .seconds = record.elapsed()};
  record.save(result_json(o, record.state(), summary));
  if (Cluster::root()) print_summary(o, data, task, record.state(), summary);
  return 0;
}

}  // namespace sst2
