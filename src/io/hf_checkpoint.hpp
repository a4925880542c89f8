// The weights of a Hugging Face model folder: model.safetensors, or the
// shards listed by model.safetensors.index.json, behind one lookup by name.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mezo/io/safetensors.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

class HfCheckpoint {
 public:
  // Opens `dir`/model.safetensors, else the shards of
  // `dir`/model.safetensors.index.json (each shard once). Throws mezo::Error
  // naming the folder when neither is there, and naming the index file for a
  // malformed weight_map or a tensor missing from the shard it names.
  static HfCheckpoint open(const std::filesystem::path& dir);

  // The tensor and the file it is in; null when absent.
  struct Found {
    const SafetensorsFile* file;
    const TensorInfo* info;
  };
  Found find(std::string_view name) const;
  // What error messages call the checkpoint (the file or the index).
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::vector<SafetensorsFile> files_;
};

}  // namespace detail
MEZO_END_NAMESPACE
