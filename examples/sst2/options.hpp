// The options of `mezo-sst2 train`, with the MeZO paper's defaults.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "mezo/ada_mezo.hpp"
#include "mezo/model/language_model.hpp"
#include "prompt.hpp"

namespace sst2 {

// The MeZO paper's settings (../shared/guide/MEZO.md), which apply_defaults
// fills in for a new run and --help prints: by model family...
struct FamilyDefaults {
  int batch_size;
  std::int64_t steps, eval_every;
};
inline constexpr FamilyDefaults kMaskedLmDefaults{64, 100000, 10000};  // RoBERTa, k-shot
inline constexpr FamilyDefaults kCausalLmDefaults{16, 20000, 4000};    // OPT, 1000 + 500 sampled
// ... and by PEFT mode.
struct PeftDefaults {
  float lr, eps, weight_decay;
};
inline constexpr PeftDefaults kFullDefaults{1e-6f, 1e-3f, 0.0f};
inline constexpr PeftDefaults kLoraDefaults{1e-4f, 1e-3f, 0.1f};
inline constexpr PeftDefaults kPrefixDefaults{1e-2f, 1e-1f, 0.0f};

struct TrainOptions {
  std::filesystem::path model_dir;  // HF folder of either family, or a .gguf file (required)
  // "sst2", or another of the paper's tasks (tasks.hpp: rte, cb, boolq, ...),
  // which take causal LMs, the sampled protocol and their own template.
  std::string task = "sst2";
  // The user's own task (tasks.hpp load_task_file); then task is its name.
  std::filesystem::path task_file;
  // SST-2's folder; for another --task, the folder holding superglue/
  // (apply_defaults: ../shared/data unless --data is given).
  std::filesystem::path data_dir = "../shared/data/SST-2";
  // Which data: "kshot" (LM-BFF's K per class, the paper's RoBERTa setting),
  // "sampled" (num_train + num_dev drawn from GLUE train, the paper's OPT
  // setting) or "auto" (resolved by apply_defaults; run.json holds the result).
  std::string protocol = "auto";
  int k = 16;                               // kshot: examples per class
  int num_train = 1000;                     // sampled: training examples
  int num_dev = 500;                        // sampled: dev examples
  std::uint32_t data_seed = 42;             // which split (both protocols)
  std::filesystem::path out_dir;            // empty: main() picks a fresh one
  std::string objective = "cross_entropy";  // or accuracy; generation: answer_nll | f1
  std::string head = "auto";                // auto | mlm | cosine | lm
  float cosine_scale = 20.0f;
  PromptOptions prompt;
  // The zeroth-order method (optimizer_choice.hpp) and its own options;
  // directions 0 = the method's default (n-SPSA 4, FZOO 8).
  std::string optimizer = "zo-sgd";
  int directions = 0;
  float beta1 = mezo::AdaMezoConfig{}.beta1;  // ada-mezo
  float beta2 = mezo::AdaMezoConfig{}.beta2;
  int history = mezo::AdaMezoConfig{}.history;
  float lr = kFullDefaults.lr;
  float eps = kFullDefaults.eps;
  float weight_decay = kFullDefaults.weight_decay;
  std::int64_t steps = kMaskedLmDefaults.steps;
  std::int64_t eval_every = kMaskedLmDefaults.eval_every;
  int batch_size = kMaskedLmDefaults.batch_size;
  std::uint64_t seed = 42;  // run seed: z and batches
  int threads = 0;          // 0 = all cores
  // The layers' matrix products: "fp32" or "bf16" (mezo::ComputePrecision).
  std::string compute = "fp32";
  bool exact_restore = true;
  std::int64_t log_every = 100;        // progress lines when not a terminal
  std::int64_t max_eval_examples = 0;  // 0 = all (dev and test)
  // In-context learning (demonstrations.hpp): this many training examples,
  // with their answers, before every dev and test prompt; a --steps 0 run.
  int demos = 0;
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

  // The options given on the command line, by long name ("--lr"); not saved.
  // Those not given take the defaults of the model family and PEFT mode
  // (apply_defaults), and an explicit --batch larger than the training set
  // is an error while the default is capped at it.
  std::set<std::string> given;
  bool was_given(const std::string& name) const { return given.contains(name); }
};

nlohmann::json to_json(const TrainOptions& o);
// Reads run.json's options; fields added later take the values older runs
// had when an older run.json lacks them (PEFT: full; protocol: kshot).
TrainOptions options_from_json(const nlohmann::json& j);

// How the run loads its model (threads, compute precision): the one place
// that says it, for training, --resume, replay and export.
mezo::ModelOptions model_options(const TrainOptions& o);

// Throws mezo::Error naming the option for a value out of range, before
// anything is loaded. (Options that depend on the model are checked where
// the model is: template, label words, head, max length.)
void validate(const TrainOptions& o);

// Fills in, for a new run, whatever the user did not give, with the MeZO
// paper's settings for the model family and PEFT mode (the tables above; the
// data: k-shot for masked LMs, 1000 train / 500 dev sampled for causal LMs).
// --protocol auto becomes "sampled" when --num-train or --num-dev was given,
// "kshot" when --k was, else the family's. Throws mezo::Error when options of
// both protocols were given. Another --task than sst2 also sets its data
// folder, its dev size (tasks.hpp) and --max-length: min(kTaskMaxLength, the
// model's longest sequence, `model_max_length`). --demos sets --steps 0 and
// --max-length min(kInContextMaxLength, the model's), and needs a causal LM.
void apply_defaults(TrainOptions& o, mezo::ModelFamily family, std::int64_t model_max_length);

// The default --max-length of a --task (passages and paragraphs are long;
// the paper's reference allows 2,048 tokens).
inline constexpr int kTaskMaxLength = 1024;
// The default --max-length of an in-context run: the reference's 2,048, which
// 32 demonstrations of most tasks fill (the first ones are cut from the left).
inline constexpr int kInContextMaxLength = 2048;

}  // namespace sst2
