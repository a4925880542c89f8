#include "io/hf_checkpoint.hpp"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <system_error>

#include "file_io.hpp"
#include "json_text.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

namespace {
bool is_file(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}
}  // namespace

HfCheckpoint HfCheckpoint::open(const std::filesystem::path& dir) {
  HfCheckpoint checkpoint;
  const auto single = dir / "model.safetensors";
  const auto index = dir / "model.safetensors.index.json";
  if (is_file(single)) {
    checkpoint.path_ = single;
    checkpoint.files_.push_back(SafetensorsFile::open(single));
    return checkpoint;
  }
  if (!is_file(index)) {
    throw Error(ErrorCode::io,
                fmt::format("'{}' holds neither model.safetensors nor model.safetensors.index.json",
                            dir.string()));
  }
  checkpoint.path_ = index;
  const nlohmann::json json = parse_json_text(read_file(index), index);
  const auto map = json.is_object() ? json.find("weight_map") : json.end();
  if (map == json.end() || !map->is_object()) {
    throw Error(
        ErrorCode::invalid_format,
        fmt::format("'{}': expected an object with a \"weight_map\" object", index.string()));
  }
  // Each shard once, in the order first named; every name must be in its shard.
  std::map<std::string, std::size_t> shards;
  for (const auto& [name, shard] : map->items()) {
    if (!shard.is_string()) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("'{}': weight_map[\"{}\"] is not a file name", index.string(), name));
    }
    const auto& file = shard.get_ref<const std::string&>();
    if (file.empty() || file.find('/') != std::string::npos || file == "..") {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("'{}': weight_map[\"{}\"] = \"{}\" is not a file in the folder",
                              index.string(), name, file));
    }
    auto [it, added] = shards.emplace(file, checkpoint.files_.size());
    if (added) checkpoint.files_.push_back(SafetensorsFile::open(dir / file));
    if (checkpoint.files_[it->second].find(name) == nullptr) {
      throw Error(
          ErrorCode::invalid_format,
          fmt::format("'{}': tensor '{}' is not in its shard '{}'", index.string(), name, file));
    }
  }
  return checkpoint;
}

HfCheckpoint::Found HfCheckpoint::find(std::string_view name) const {
  for (const SafetensorsFile& file : files_) {
    if (const TensorInfo* info = file.find(name)) return {&file, info};
  }
  return {nullptr, nullptr};
}

}  // namespace detail
MEZO_END_NAMESPACE
