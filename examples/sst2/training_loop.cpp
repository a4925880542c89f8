#include "training_loop.hpp"

#include <fmt/format.h>

#include "cluster.hpp"
#include "evaluation.hpp"
#include "progress.hpp"

namespace sst2 {

double run_steps(TrainingRun& run, std::int64_t first_step) {
  const TrainOptions& o = run.options;
  const mezo::CrossEntropy cross_entropy;
  const mezo::NegativeAccuracy negative_accuracy;
  const AnswerNll answer_nll;
  const mezo::Objective& objective =
      o.objective == "accuracy"     ? static_cast<const mezo::Objective&>(negative_accuracy)
      : o.objective == "answer_nll" ? static_cast<const mezo::Objective&>(answer_nll)
                                    : cross_entropy;
  LabelScorer& scorer = *run.task.scorer;
  const std::size_t batch = std::min<std::size_t>(o.batch_size, run.train.size());
  const std::int64_t labels_per_example = static_cast<std::int64_t>(scorer.num_labels());
  std::vector<const EncodedExample*> batch_examples;
  std::vector<std::int32_t> labels;
  std::vector<float> logits;
  // --objective f1: the loss is the answers' −F1, which generates them; the
  // scorer's logits play no part.
  AnswerGenerator* const f1_generator = o.objective == "f1" ? run.task.generator.get() : nullptr;
  if (o.objective == "f1" && f1_generator == nullptr)
    throw mezo::Error(mezo::ErrorCode::invalid_argument, "--objective f1 needs a generation task");
  std::vector<double> f1_losses;
  const auto loss = [&] {
    if (f1_generator != nullptr) {
      f1_losses.resize(batch_examples.size());
      f1_generator->negative_f1(batch_examples, f1_losses);
      return mezo::mean_loss(f1_losses);
    }
    scorer.score(batch_examples, logits);
    return objective(
        {logits.data(), static_cast<std::int64_t>(batch_examples.size()), labels_per_example},
        labels);
  };
  // In an MPI job: this rank's part [begin, end) of the batch, one loss per
  // example (the ranks combine them into the loss `loss` would give).
  std::vector<const EncodedExample*> shard_examples;
  std::vector<float> shard_logits;
  const auto shard_loss = [&](std::int64_t begin, std::int64_t end, std::span<double> out) {
    shard_examples.assign(batch_examples.begin() + begin, batch_examples.begin() + end);
    if (f1_generator != nullptr) return f1_generator->negative_f1(shard_examples, out);
    scorer.score(shard_examples, shard_logits);
    objective.example_losses({shard_logits.data(), end - begin, labels_per_example},
                             std::span(labels).subspan(static_cast<std::size_t>(begin),
                                                       static_cast<std::size_t>(end - begin)),
                             out);
  };

  const mezo::SeedSchedule seeds(o.seed);
  Progress progress(first_step, o.steps, o.log_every);
  std::int64_t zero_grad_steps = 0, window_steps = 0, rejected_in_a_row = 0;
  for (std::int64_t t = first_step; t < o.steps; ++t) {
    batch_examples.clear();
    labels.clear();
    for (const std::size_t i : sample_batch(o.seed, t, run.train.size(), batch)) {
      batch_examples.push_back(&run.train[i]);
      labels.push_back(run.train[i].label);
    }
    const mezo::StepResult r =
        Cluster::distributed()
            ? Cluster::data_parallel_step(run.trainable, run.optimizer,
                                          static_cast<std::int64_t>(batch_examples.size()),
                                          shard_loss, seeds.seed_for_step(t), run.step_options)
            : mezo::step(run.trainable, run.optimizer, loss, seeds.seed_for_step(t),
                         run.step_options);
    ++window_steps;
    zero_grad_steps += r.status == mezo::StepStatus::ok && r.projected_grad == 0.0f;
    nlohmann::json line = {{"step", t},
                           {"loss_plus", r.loss_plus},
                           {"loss_minus", r.loss_minus},
                           {"projected_grad", r.projected_grad},
                           {"lr", r.update.lr},
                           {"elapsed_s", run.record.elapsed()}};
    if (r.status != mezo::StepStatus::ok) line["rejected"] = r.message;
    // The metrics line first: the seed log decides where a resumed run starts,
    // and a kill between the two writes must not lose step t's line for good.
    run.record.append_metrics(line);
    if (run.seed_log) run.seed_log->append(t, r);
    run.record.state().steps_done = t + 1;
    rejected_in_a_row = r.status == mezo::StepStatus::ok ? 0 : rejected_in_a_row + 1;
    if (o.max_rejected_in_a_row > 0 && rejected_in_a_row >= o.max_rejected_in_a_row) {
      if (run.seed_log) run.seed_log->sync();
      throw mezo::Error(
          mezo::ErrorCode::invalid_argument,
          fmt::format("the last {} steps were all rejected (step {}: {}); rejected steps leave "
                      "the weights untouched, so the weights themselves or the learning rate "
                      "(--lr {}) are at fault; see {} (--max-rejected 0 never stops)",
                      rejected_in_a_row, t, r.message, o.lr,
                      (o.out_dir / "metrics.jsonl").string()));
    }

    std::optional<double> dev;
    if ((t + 1) % o.eval_every == 0 || t + 1 == o.steps) {
      if (run.seed_log) run.seed_log->sync();
      dev = run.task.evaluate(run.dev).accuracy;
      run.record.record_dev(t + 1, *dev);
      Cluster::check_replicas(run.trainable);
      run.record.save();
    }
    const double zero_fraction =
        static_cast<double>(zero_grad_steps) / static_cast<double>(window_steps);
    progress.update(t, r.loss_plus, dev, zero_fraction);
    if ((t + 1) % o.log_every == 0) {
      run.record.append_metrics(
          {{"step", t}, {"zero_grad_fraction", zero_fraction}, {"window_steps", window_steps}});
      zero_grad_steps = window_steps = 0;
    }
  }
  progress.finish();
  return progress.steps_per_second();
}

}  // namespace sst2
