// `mezo-sst2 export`: writes a finished (or stopped) run's best-by-dev weights
// as a model file, then loads that file back and measures its test accuracy,
// so what is shipped is what was evaluated.
#pragma once

#include <filesystem>
#include <string>

namespace sst2 {

struct ExportOptions {
  std::filesystem::path run;  // the run folder (--out of the run)
  std::filesystem::path to;   // a .gguf file (causal LMs) or a Hugging Face folder
  std::string type = "f32";   // GGUF matrix type: f32, f16 or q8_0
  int threads = 0;
};

// Prints progress on stderr and one JSON line on stdout: the file, the step
// whose weights it holds, the run's recorded test accuracy and the one
// measured from the file. Returns the exit status; throws mezo::Error for a
// folder without a run, a PEFT run, or a format the model cannot be written in.
int export_run(const ExportOptions& options);

}  // namespace sst2
