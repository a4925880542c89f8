// A whole regular file mapped read-only, unmapped with the object: what the
// checkpoint readers (safetensors, GGUF) parse, without reading the tensors
// into memory until asked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

class MappedFile {
 public:
  // Maps `path`. Throws mezo::Error: io when the system refuses to open,
  // stat or map it; invalid_argument for something other than a regular
  // file; invalid_format for a file of fewer than `min_size` bytes, saying
  // "the file is N bytes, shorter than <needed> (truncated?)".
  static MappedFile open(const std::filesystem::path& path, std::uint64_t min_size,
                         std::string_view needed);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const unsigned char* data() const { return static_cast<const unsigned char*>(map_); }
  std::uint64_t size() const { return size_; }

 private:
  void* map_ = nullptr;
  std::uint64_t size_ = 0;
};

}  // namespace detail
MEZO_END_NAMESPACE
