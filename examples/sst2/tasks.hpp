// The MeZO paper's other tasks (its OPT experiments, Table 1) as data: for
// each, where its JSONL files are under the shared data folder and how a row
// becomes an Example — the prompt and the prompt followed by each candidate,
// as the paper's templates write them (princeton-nlp/MeZO
// large_models/templates.py and tasks.py; the facts are cited in tasks.cpp).
// SST-2 stays on its own path (data.hpp, causal_prompt.hpp), byte for byte.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "prompt.hpp"

namespace sst2 {

struct TaskSpec {
  std::string name;    // as --task takes it: "rte"
  std::string folder;  // under the data folder: "superglue/RTE"
  // How reports name the prompt: "the MeZO paper's rte template", or a task
  // file's template itself.
  std::string template_description;
  // train.jsonl exists upstream and here; without it, train and dev are drawn
  // from the test file, disjoint from the test examples (see task_data.hpp).
  bool has_train = true;
  // The file test examples come from, in folder.
  std::string test_name = "val.jsonl";
  // A file that is one JSON document rather than one row per line (SQuAD's
  // dev-v1.1.json): the rows it holds, in file order. Throws FieldError.
  std::function<std::vector<nlohmann::json>(const nlohmann::json& document)> document_rows;
  // A generation task (SQuAD, DROP): the model writes the answer. Training
  // minimises the negative log-likelihood of the first gold answer's tokens
  // after the prompt (verbalized[0]), or with --objective f1 its answers'
  // −F1 (AnswerGenerator::negative_f1); evaluation decodes greedily up to
  // kMaxAnswerTokens tokens, stopping at a newline or the end token, and
  // scores exact match and F1 against every gold answer (answer_metrics.hpp).
  bool generation = false;
  // What each candidate is called in reports: the label words ("Yes", "No"),
  // or "choice 1", "choice 2" where every example has its own candidates.
  std::vector<std::string> answers;
  // Appends the examples of one JSONL row (MultiRC: one per answer option of
  // every question of the passage). Throws FieldError for a missing or
  // mistyped field.
  std::function<void(const nlohmann::json& row, std::vector<Example>& out)> render;
  // The dev examples a run draws unless --num-dev says otherwise: 500, or 100
  // where the train pool is small (the paper's script uses 100 for CB and
  // COPA; WSC and WiC get 100 here too, where 500 would leave 54 and no
  // training examples).
  int num_dev = 500;
  // A task file's (load_task_file): its JSONL files, in place of folder. An
  // empty test_file: test is drawn from train_file first, as for a task
  // without a train split.
  std::filesystem::path train_file, test_file;
};

// The MeZO reference's max_new_tokens for generation tasks.
inline constexpr int kMaxAnswerTokens = 50;

// A row without a field the task needs, or with one of another type.
struct FieldError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Every built-in task but SST-2, in the paper's table order.
const std::vector<TaskSpec>& task_specs();
// The task named `name`; throws mezo::Error listing the known names.
const TaskSpec& find_task(std::string_view name);
// "sst2, rte, cb, ...": what --task accepts.
std::string task_names();

// The user's own task, from a JSON task file (format in examples/sst2/README.md,
// "Your own task"): a name, JSONL files (paths relative to the task file), a
// template whose {field}s are filled from each row, and either label_words
// (classification: the row's label_field value → the text after the prompt)
// or choices_field / answer_field / num_choices (multiple choice: the row's
// own candidates). Throws mezo::Error naming the file and the key at fault.
TaskSpec load_task_file(const std::filesystem::path& path);

}  // namespace sst2
