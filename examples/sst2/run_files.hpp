// The files of a run folder, written so that a kill at any moment loses at
// most the step in flight and never leaves a half-written file behind:
//   run.json          options, progress, evaluations, result (atomic rewrite)
//   trajectory.mezotrj the seed log: with the initial weights, the checkpoint
//   metrics.jsonl     one JSON object per step (single appends; a resumed run
//                     first rewrites it without the steps it will redo)
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace sst2 {

// Writes `bytes` to `path` atomically (temp file, fsync, rename).
void write_file_atomically(const std::filesystem::path& path, const std::string& bytes);
// Writes `j` to `path` atomically.
void write_json_atomically(const std::filesystem::path& path, const nlohmann::json& j);
nlohmann::json read_json(const std::filesystem::path& path);

// A 64-bit FNV-1a digest of a file, to recognise the initial weights on resume.
std::string file_digest(const std::filesystem::path& path);
// The digest of a model's weights: a .gguf file's, model.safetensors' in a
// folder (what runs have always recorded), or, for a sharded folder, one
// digest over model.safetensors.index.json and its shards in name order.
std::string model_digest(const std::filesystem::path& model);

class MetricsLog {
 public:
  // Creates or, when resuming, rewrites `path` keeping only lines whose
  // "step" is below `first_step` and evaluation lines that run.json recorded
  // (after_steps <= last_eval_step); a torn last line is dropped. The rest
  // will be redone.
  MetricsLog(const std::filesystem::path& path, std::int64_t first_step,
             std::int64_t last_eval_step);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;
  // One line, one write(2).
  void append(const nlohmann::json& record);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace sst2
