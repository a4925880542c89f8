// What a run tells the user: the header before training (stderr), and the
// result (run.json's "result" and the summary on stdout).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data.hpp"
#include "mezo/model/language_model.hpp"
#include "options.hpp"
#include "run_record.hpp"
#include "task.hpp"

namespace sst2 {

struct RunSummary {
  double test_accuracy = 0.0;         // of the best-by-dev weights (a generation task's: F1)
  std::optional<double> test_exact_match;  // a generation task's
  std::vector<double> test_answered;  // the share of the test set they answer with each label
  std::vector<double> test_gold;      // the share of the test set each label is right for
  std::size_t test_examples = 0;
  std::string data;  // RunData::description
  std::uint64_t trainable_parameters = 0;
  std::int64_t steps_this_session = 0;  // 0 when --resume reprints a finished run
  double steps_per_second = 0.0;        // this session
  double seconds = 0.0;                 // this session
};

// What the untrained model's evaluation is called: "zero-shot", or with
// --demos "in-context (32 demonstrations)"; run.json's zero_shot fields hold it.
std::string untrained_evaluation(const TrainOptions& o);

// Model, PEFT mode, trainable parameters, head and data sizes (stderr).
void print_run_header(const TrainOptions& o, const mezo::LanguageModel& model, const Task& task,
                      std::uint64_t trainable_parameters, const RunData& data,
                      std::size_t train_examples, std::size_t dev_examples,
                      std::size_t test_examples);

nlohmann::json result_json(const TrainOptions& o, const RunState& state, const RunSummary& summary);

// The summary on stdout: zero-shot, best dev, test of the best-by-dev weights, speed.
void print_summary(const TrainOptions& o, const RunData& data, const Task& task,
                   const RunState& state, const RunSummary& summary);

}  // namespace sst2
