#include "task_data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "mezo/data/labeled_text.hpp"
#include "mezo/error.hpp"

namespace sst2 {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kTestExamples = 1000;  // the paper's num_eval

std::vector<Example> pick(const std::vector<Example>& all, const std::vector<std::size_t>& order,
                          std::size_t begin, std::size_t end) {
  std::vector<Example> out;
  for (std::size_t i = begin; i < end; ++i) out.push_back(all[order[i]]);
  return out;
}

}  // namespace

namespace {

// A file that is one JSON document (TaskSpec::document_rows).
std::vector<Example> read_document(std::ifstream& in, const fs::path& path, const TaskSpec& spec) {
  const auto document = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    throw mezo::Error(mezo::ErrorCode::invalid_format,
                      fmt::format("{}: not a JSON document (task {})", path.string(), spec.name));
  }
  std::vector<Example> out;
  std::vector<nlohmann::json> rows;
  try {
    rows = spec.document_rows(document);
  } catch (const FieldError& e) {
    throw mezo::Error(mezo::ErrorCode::invalid_format,
                      fmt::format("{}: {} (task {})", path.string(), e.what(), spec.name));
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    try {
      spec.render(rows[i], out);
    } catch (const FieldError& e) {
      throw mezo::Error(
          mezo::ErrorCode::invalid_format,
          fmt::format("{}: question {}: {} (task {})", path.string(), i + 1, e.what(), spec.name));
    }
  }
  return out;
}

}  // namespace

std::vector<Example> read_task_file(const fs::path& path, const TaskSpec& spec) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw mezo::Error(mezo::ErrorCode::io,
                      fmt::format("--task {}: cannot read {}", spec.name, path.string()));
  }
  if (spec.document_rows) {
    auto out = read_document(in, path, spec);
    if (out.empty()) {
      throw mezo::Error(mezo::ErrorCode::invalid_format,
                        fmt::format("{}: no examples", path.string()));
    }
    return out;
  }
  std::vector<Example> out;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const auto where = [&] { return fmt::format("{}:{}", path.string(), number); };
    const auto row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (row.is_discarded() || !row.is_object()) {
      throw mezo::Error(mezo::ErrorCode::invalid_format,
                        fmt::format("{}: not a JSON object (one example per line)", where()));
    }
    try {
      spec.render(row, out);
    } catch (const FieldError& e) {
      throw mezo::Error(mezo::ErrorCode::invalid_format,
                        fmt::format("{}: {} (task {})", where(), e.what(), spec.name));
    }
  }
  if (out.empty()) {
    throw mezo::Error(mezo::ErrorCode::invalid_format,
                      fmt::format("{}: no examples", path.string()));
  }
  return out;
}

TaskSpec task_spec(const TrainOptions& o) {
  return o.task_file.empty() ? find_task(o.task) : load_task_file(o.task_file);
}

RunData load_task_data(const TrainOptions& o, const TaskSpec& spec) {
  // Where train and test come from: a task file's own files, else the
  // task's folder; no separate train file: test is drawn from the one file first.
  const bool own_files = !spec.train_file.empty();
  const fs::path folder = o.data_dir / spec.folder;
  const fs::path test_file = own_files ? (spec.test_file.empty() ? spec.train_file : spec.test_file)
                                       : folder / spec.test_name;
  const bool has_train = own_files ? !spec.test_file.empty() : spec.has_train;
  const fs::path train_file = own_files ? spec.train_file : folder / "train.jsonl";
  const auto val = read_task_file(test_file, spec);
  const auto val_order = mezo::numpy_permutation(val.size(), o.data_seed);
  RunData data;
  std::vector<Example> pool;
  std::string pool_name;
  if (has_train) {
    pool = read_task_file(train_file, spec);
    pool_name = train_file.filename().string();
    data.test = pick(val, val_order, 0, std::min(kTestExamples, val.size()));
  } else {
    // Test first, then the rest of val.jsonl is the train pool.
    const std::size_t test = std::min(kTestExamples, val.size() / 2);
    data.test = pick(val, val_order, 0, test);
    pool = pick(val, val_order, test, val.size());
    pool_name =
        fmt::format("the {} {} examples not in test", pool.size(), test_file.filename().string());
  }
  const auto order = mezo::numpy_permutation(pool.size(), o.data_seed);
  const std::size_t drawn = std::min(
      pool.size(), static_cast<std::size_t>(o.num_train) + static_cast<std::size_t>(o.num_dev));
  if (drawn <= static_cast<std::size_t>(o.num_dev)) {
    throw mezo::Error(
        mezo::ErrorCode::invalid_argument,
        fmt::format("--task {}: the train pool ({}) has {} examples, none left for training after "
                    "--num-dev {}; pass a smaller --num-dev",
                    spec.name, pool_name, pool.size(), o.num_dev));
  }
  data.train = pick(pool, order, 0, drawn - o.num_dev);
  data.dev = pick(pool, order, drawn - o.num_dev, drawn);
  data.description = fmt::format("{} sampled {}+{} seed={} from {}{}", spec.name, data.train.size(),
                                 data.dev.size(), o.data_seed, pool_name,
                                 has_train   ? ""
                                 : own_files ? " (test drawn from the same file)"
                                             : " (no train split here)");
  std::fprintf(stderr, "%s: %zu train + %zu dev examples from %s, %zu test from %s\n",
               spec.name.c_str(), data.train.size(), data.dev.size(),
               (has_train ? train_file.string() : pool_name).c_str(), data.test.size(),
               test_file.string().c_str());
  return data;
}

}  // namespace sst2
