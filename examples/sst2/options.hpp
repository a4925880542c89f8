// The options of `mezo-sst2 train`, with the MeZO paper's defaults.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "prompt.hpp"

namespace sst2 {

struct TrainOptions {
  std::filesystem::path model_dir;  // HF folder (required)
  std::filesystem::path data_dir = "../shared/data/SST-2";
  int k = 16;                               // examples per class
  std::uint32_t data_seed = 42;             // which k-shot split
  std::filesystem::path out_dir;            // empty: main() picks a fresh one
  std::string objective = "cross_entropy";  // or "accuracy"
  std::string head = "auto";                // auto | mlm | cosine
  float cosine_scale = 20.0f;
  PromptOptions prompt;
  float lr = 1e-6f;
  float eps = 1e-3f;
  float weight_decay = 0.0f;
  std::int64_t steps = 100000;
  std::int64_t eval_every = 10000;
  int batch_size = 64;
  // --batch was given on the command line (not saved in run.json): then a
  // batch larger than the training set is an error; the default 64 is capped
  // at the training set, as the paper's batch 64 is at k = 16.
  bool batch_given = false;
  std::uint64_t seed = 42;  // run seed: z and batches
  int threads = 0;          // 0 = all cores
  bool exact_restore = true;
  std::int64_t log_every = 100;        // progress lines when not a terminal
  std::int64_t max_eval_examples = 0;  // 0 = all (dev and test)
  // Stop with an error after this many rejected steps in a row (non-finite
  // losses: weights gone bad, or an lr far too large); 0 = never stop.
  std::int64_t max_rejected_in_a_row = 100;
};

nlohmann::json to_json(const TrainOptions& o);
TrainOptions options_from_json(const nlohmann::json& j);

}  // namespace sst2
