#include "run_record.hpp"

#include "cluster.hpp"
#include "optimizer_choice.hpp"

namespace sst2 {

RunState state_from_json(const nlohmann::json& j) {
  RunState s;
  s.steps_done = j.at("steps_done");
  s.last_eval_step = j.at("last_eval_step");
  s.best_step = j.at("best_step");
  s.best_dev = j.at("best_dev_accuracy");
  s.zero_shot_dev = j.at("zero_shot").at("dev_accuracy");
  s.zero_shot_test = j.at("zero_shot").at("test_accuracy");
  s.zero_shot_calibrated = j.at("zero_shot").value("calibrated", nlohmann::json());
  s.evaluations = j.at("evaluations");
  return s;
}

RunRecord::RunRecord(const TrainOptions& o, std::string model_digest, RunState state,
                     std::int64_t first_step)
    : options_(o),
      digest_(std::move(model_digest)),
      state_(std::move(state)),
      start_(std::chrono::steady_clock::now()) {
  if (Cluster::root())
    metrics_.emplace(o.out_dir / "metrics.jsonl", first_step, state_.last_eval_step);
}

double RunRecord::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void RunRecord::append_metrics(const nlohmann::json& line) {
  if (metrics_) metrics_->append(line);
}

void RunRecord::record_dev(std::int64_t steps_done, double dev) {
  // Forwards (loss evaluations) so far, the cost methods are compared by.
  const std::int64_t forwards = steps_done * forwards_per_step(options_);
  state_.evaluations.push_back(
      {{"step", steps_done}, {"forwards", forwards}, {"dev_accuracy", dev}});
  if (dev > state_.best_dev) state_.best_dev = dev, state_.best_step = steps_done;
  state_.last_eval_step = steps_done;
  // "step" is the 0-based index of the last step taken, as in the step
  // lines; "after_steps" is the count run.json uses.
  append_metrics({{"step", steps_done - 1},
                  {"after_steps", steps_done},
                  {"forwards", forwards},
                  {"dev_accuracy", dev},
                  {"elapsed_s", elapsed()}});
}

void RunRecord::save(const std::optional<nlohmann::json>& result) const {
  if (!Cluster::root()) return;
  nlohmann::json j = {
      {"format", kRunFormat},
      {"options", to_json(options_)},
      {"model_digest", digest_},
      {"steps_done", state_.steps_done},
      {"last_eval_step", state_.last_eval_step},
      {"best_step", state_.best_step},
      {"best_dev_accuracy", state_.best_dev},
      {"zero_shot",
       {{"dev_accuracy", state_.zero_shot_dev},
        {"test_accuracy", state_.zero_shot_test},
        {"calibrated", state_.zero_shot_calibrated}}},
      {"evaluations", state_.evaluations}};
  if (result) j["result"] = *result;
  write_json_atomically(options_.out_dir / "run.json", j);
}

}  // namespace sst2
