#include "data.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "demonstrations.hpp"
#include "mezo/error.hpp"
#include "run_files.hpp"
#include "sampled_split.hpp"
#include "task_data.hpp"

namespace sst2 {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, message);
}

bool has(const fs::path& dir, std::initializer_list<const char*> files) {
  for (const char* f : files)
    if (!fs::exists(dir / f)) return false;
  return true;
}

RunData read_split(const fs::path& dir, std::string description) {
  return {to_examples(mezo::read_labeled_tsv(dir / "train.tsv")),
          to_examples(mezo::read_labeled_tsv(dir / "dev.tsv")),
          to_examples(mezo::read_labeled_tsv(dir / "test.tsv")), std::move(description)};
}

RunData load_kshot(const TrainOptions& o) {
  const std::string name = fmt::format("{}-{}", o.k, o.data_seed);
  const std::string description = fmt::format("k={} seed={}", o.k, o.data_seed);
  for (const fs::path& dir : {o.data_dir / "k-shot" / name, o.out_dir / "data" / name}) {
    if (has(dir, {"train.tsv", "dev.tsv", "test.tsv"})) return read_split(dir, description);
  }
  const fs::path glue = o.data_dir / "glue";
  if (has(glue, {"train.tsv", "dev.tsv"})) {
    const fs::path dir = o.out_dir / "data" / name;
    std::fprintf(stderr, "making the k-shot split %s from %s\n", name.c_str(), glue.c_str());
    const auto split = mezo::make_kshot_split(glue / "train.tsv", o.k, o.data_seed);
    mezo::write_kshot_split(split, glue / "dev.tsv", dir);
    return read_split(dir, description);
  }
  if (has(o.data_dir, {"train.tsv", "dev.tsv", "test.tsv"}))
    return read_split(o.data_dir, description);
  fail(
      fmt::format("--data {}: no k-shot/{} split, no glue/train.tsv to make one from, and no "
                  "train/dev/test.tsv in the folder itself",
                  o.data_dir.string(), name));
}

// The examples as TSV lines under GLUE's header (labels are 0 and 1, so
// each line is the file's own).
std::string tsv(const std::vector<mezo::LabeledExample>& all,
                const std::vector<std::size_t>& pick) {
  std::string out = "sentence\tlabel\n";
  for (const std::size_t i : pick) out += fmt::format("{}\t{}\n", all[i].text, all[i].label);
  return out;
}

RunData load_sampled(const TrainOptions& o) {
  const std::string name = fmt::format("sampled-{}-{}-{}", o.num_train, o.num_dev, o.data_seed);
  const std::string description =
      fmt::format("sampled {}+{} seed={}", o.num_train, o.num_dev, o.data_seed);
  const fs::path dir = o.out_dir / "data" / name;
  if (has(dir, {"train.tsv", "dev.tsv", "test.tsv"})) return read_split(dir, description);
  fs::path glue = o.data_dir / "glue";
  if (!has(glue, {"train.tsv", "dev.tsv"})) glue = o.data_dir;
  if (!has(glue, {"train.tsv", "dev.tsv"})) {
    fail(
        fmt::format("--data {}: the sampled protocol needs GLUE's train.tsv and dev.tsv, in "
                    "glue/ or in the folder itself",
                    o.data_dir.string()));
  }
  const auto all = mezo::read_labeled_tsv(glue / "train.tsv");
  if (static_cast<std::size_t>(o.num_train) + static_cast<std::size_t>(o.num_dev) > all.size()) {
    fail(fmt::format("--num-train {} + --num-dev {} is more than the {} examples of {}",
                     o.num_train, o.num_dev, all.size(), (glue / "train.tsv").string()));
  }
  mezo::read_labeled_tsv(glue / "dev.tsv");  // checked before it is copied
  std::fprintf(stderr, "sampling %d train + %d dev examples from %s (seed %u)\n", o.num_train,
               o.num_dev, (glue / "train.tsv").c_str(), o.data_seed);
  const SampledSplit split = sample_split(all.size(), static_cast<std::size_t>(o.num_train),
                                          static_cast<std::size_t>(o.num_dev), o.data_seed);
  // Written into the run folder, as a generated k-shot split is: the run's
  // data stay with it, and --resume reads them back.
  fs::create_directories(dir);
  write_file_atomically(dir / "train.tsv", tsv(all, split.train));
  write_file_atomically(dir / "dev.tsv", tsv(all, split.dev));
  std::ifstream dev(glue / "dev.tsv", std::ios::binary);
  write_file_atomically(dir / "test.tsv", std::string(std::istreambuf_iterator<char>(dev), {}));
  return read_split(dir, description);
}

}  // namespace

RunData load_sst2(const TrainOptions& o) {
  return o.protocol == "sampled" ? load_sampled(o) : load_kshot(o);
}

RunData load_data(const TrainOptions& o) {
  RunData data = o.task == "sst2" ? load_sst2(o) : load_task_data(o, task_spec(o));
  if (o.demos > 0) return in_context(std::move(data), o.demos, o.task, o.prompt);
  return data;
}

}  // namespace sst2
