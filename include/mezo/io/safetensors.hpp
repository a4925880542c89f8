// Reading and writing HF safetensors files.
//
// Format: u64 little-endian header length N, then N bytes of JSON mapping each
// tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
// relative to the data section that follows the header) plus an optional
// "__metadata__" object of strings, then the data section.
// Every structural promise of the header is checked on open — offsets inside
// the file, sizes equal to shape × dtype size, no two tensors overlapping — so
// a truncated or lying file is an error naming the file and tensor, never a
// read past the end.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

enum class TensorDType { f64, f32, f16, bf16, i64, i32, i16, i8, u8, boolean };

MEZO_API const char* to_string(TensorDType dtype) noexcept;  // the safetensors spelling: "F32", ...
MEZO_API std::size_t size_of(TensorDType dtype) noexcept;

struct MEZO_API TensorInfo {
  std::string name;
  TensorDType dtype = TensorDType::f32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // byte offsets within the data section
  std::uint64_t end = 0;
  std::uint64_t num_elements() const;
};

class MEZO_API SafetensorsFile {
 public:
  // Opens and validates `path`; the data is read lazily by read_f32.
  static SafetensorsFile open(const std::filesystem::path& path);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::filesystem::path& path() const;
  // In header order.
  std::span<const TensorInfo> tensors() const;
  const TensorInfo* find(std::string_view name) const;
  // Throws mezo::Error naming the file and the tensor if it is absent.
  const TensorInfo& get(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const;

  // Reads a tensor as fp32 into `out`, converting from F32, F16 or BF16.
  // Throws if out.size() is not the tensor's element count or the dtype is
  // not a floating type.
  void read_f32(const TensorInfo& tensor, std::span<float> out) const;

 private:
  struct State;
  explicit SafetensorsFile(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// One fp32 tensor to write.
struct TensorF32View {
  std::string name;
  std::vector<std::int64_t> shape;
  std::span<const float> data;  // shape's product elements
};

// Writes an F32 safetensors file atomically (temp file, fsync, rename).
MEZO_API void write_safetensors(const std::filesystem::path& path,
                                std::span<const TensorF32View> tensors,
                                const std::map<std::string, std::string>& metadata = {});

MEZO_END_NAMESPACE
