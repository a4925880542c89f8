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

  // Parameter-efficient MeZO (../shared/guide/MEZO.md §1): "full" trains every
  // weight; "lora" and "prefix" train only their own small tensors (the seed
  // log replays onto them; the frozen base is never written).
  std::string peft = "full";
  int lora_rank = 8;
  float lora_alpha = 16.0f;
  std::vector<std::string> lora_targets = {"query", "value"};
  int prefix_tokens = 5;
  std::string prefix_init = "real";  // or "random"
  // Which of --lr, --eps, --weight-decay were given (not saved): the others
  // take the paper's defaults of the PEFT mode (apply_peft_defaults).
  bool lr_given = false, eps_given = false, weight_decay_given = false;
};

nlohmann::json to_json(const TrainOptions& o);
// Reads run.json's options; fields added later (PEFT, max_rejected) take
// their defaults when an older run.json lacks them.
TrainOptions options_from_json(const nlohmann::json& j);

// The MeZO paper's settings for the PEFT mode, for whichever of lr, eps and
// weight decay the user did not give: LoRA lr 1e-4, eps 1e-3, weight decay
// 0.1; prefix lr 1e-2, eps 1e-1, weight decay 0 (full: the defaults above).
void apply_peft_defaults(TrainOptions& o);

}  // namespace sst2
