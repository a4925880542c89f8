// The SST-2 examples of a run, by o.protocol:
//  kshot:   LM-BFF's split K-SEED (K per class for train and for dev, test =
//           GLUE dev): --data/k-shot/K-SEED, else made from --data/glue into
//           the run folder's data/K-SEED (as LM-BFF does), else a folder
//           holding train/dev/test.tsv itself (--data).
//  sampled: num_train + num_dev examples of GLUE train drawn with the data
//           seed (sampled_split.hpp), test = GLUE dev; GLUE is --data/glue or
//           --data itself (train.tsv and dev.tsv). Written into the run
//           folder's data/sampled-N-M-SEED/{train,dev,test}.tsv, which a
//           resumed run reads back.
#pragma once

#include <string>
#include <vector>

#include "mezo/data/labeled_text.hpp"
#include "options.hpp"
#include "prompt.hpp"

namespace sst2 {

// The examples of a run (SST-2's, or another --task's: task_data.hpp).
struct RunData {
  std::vector<Example> train, dev, test;
  std::string description;  // "k=16 seed=42", "sampled 1000+500 seed=42"
};

// Throws mezo::Error naming the folder and what it lacks, or the file at fault.
// In an MPI job, call it on rank 0 first: it may write the split.
RunData load_sst2(const TrainOptions& o);

// load_sst2 for --task sst2, else load_task_data (task_data.hpp); with
// --demos, dev and test in context (demonstrations.hpp: o.prompt must hold
// the template and label words in use).
RunData load_data(const TrainOptions& o);

}  // namespace sst2
