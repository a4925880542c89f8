// The examples of a --task run, by the MeZO paper's OPT protocol as its
// reference code draws them (large_models/run.py and tasks.py), with NumPy's
// legacy permutation reproduced (mezo::numpy_permutation):
//   train + dev: permutation(len(train pool), seed = data seed), its first
//       num_train + num_dev (all of the pool when it is smaller); dev = the
//       last num_dev of those, train = the rest;
//   test: permutation(len(val.jsonl), seed = data seed), its first 1,000
//       (all of val.jsonl when smaller); val.jsonl stands for the task's test
//       file (TaskSpec::test_name: SQuAD's dev-v1.1.json, one row per question).
// Where the train split is not here (BoolQ, WiC, SQuAD, DROP: has_train), the
// test examples are drawn first, the first min(1,000, half) of val.jsonl's
// permutation, and the train pool is the rest of val.jsonl; tables must say
// so. The pool and split sizes are printed and kept in the description.
#pragma once

#include "data.hpp"
#include "options.hpp"
#include "tasks.hpp"

namespace sst2 {

// Throws mezo::Error naming the file, line and field of a bad row, or the
// missing file; or when no training example is left after the dev examples.
// A task file's task (TaskSpec::train_file) reads its own files, by the same
// rules: test_file as val.jsonl, or none (test drawn from train_file first).
RunData load_task_data(const TrainOptions& o, const TaskSpec& spec);

// The run's task: the built-in one --task names, or --task-file's.
TaskSpec task_spec(const TrainOptions& o);

// The examples of a JSONL file rendered by `spec`, in file order. Throws
// mezo::Error (invalid_format) naming the file, line and what is wrong.
std::vector<Example> read_task_file(const std::filesystem::path& path, const TaskSpec& spec);

}  // namespace sst2
