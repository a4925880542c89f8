// Reading and writing GGUF files, llama.cpp's model format (ggml docs/gguf.md).
//
// Layout (little-endian): "GGUF", u32 version (2 or 3), u64 tensor count,
// u64 metadata count; metadata key/value pairs; tensor infos (name, dims with
// dims[0] the fastest, contiguous dimension, ggml type, offset into the data
// section); padding to the alignment (general.alignment, default 32); data.
// Every count, length, offset and size is checked against the file on open,
// so a truncated or lying file is a mezo::Error naming the file and the key or
// tensor at fault, never a read past the end, a huge allocation or a hang.
//
// Quantized tensors are dequantized to fp32 on read: MeZO trains fp32 masters
// (its ε = 1e-3 is far below a Q4 step).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

// ggml tensor types (the numbers are the file's).
enum class GgmlType : std::uint32_t {
  f32 = 0,
  f16 = 1,
  q4_0 = 2,
  q4_1 = 3,
  q5_0 = 6,
  q5_1 = 7,
  q8_0 = 8,
  q8_1 = 9,
  q2_k = 10,
  q3_k = 11,
  q4_k = 12,
  q5_k = 13,
  q6_k = 14,
  bf16 = 30,
};

// "F32", "Q4_1", ... ("type N" for a number ggml does not define).
MEZO_API std::string to_string(GgmlType type);

// GGUF metadata value types (the numbers are the file's).
enum class GgufValueType : std::uint32_t {
  uint8 = 0,
  int8 = 1,
  uint16 = 2,
  int16 = 3,
  uint32 = 4,
  int32 = 5,
  float32 = 6,
  boolean = 7,
  string = 8,
  array = 9,
  uint64 = 10,
  int64 = 11,
  float64 = 12,
};

MEZO_API const char* to_string(GgufValueType type) noexcept;  // "UINT32", ...

// One metadata value. Scalars fill the member of their kind (integers: the
// signed or unsigned one, booleans: `integer` 0/1); arrays set element_type
// and fill `strings`, `integers` (any integer or bool element type, widened)
// or `floats`. GGUF forbids arrays of arrays.
//
// The reader fills both integer members for every integer that fits them;
// write_gguf takes a UINT64 scalar from `unsigned_integer` and every other
// integer or bool scalar from `integer`. A UINT64 array element above
// INT64_MAX is kept in `integers` as its two's-complement bits (cast it back
// to std::uint64_t), so every value survives a read and a write unchanged.
struct MEZO_API GgufValue {
  GgufValueType type = GgufValueType::uint32;
  GgufValueType element_type = GgufValueType::uint32;  // arrays only
  std::int64_t integer = 0;     // int8..int64, uint8..uint32, bool (and uint64 up to INT64_MAX)
  std::uint64_t unsigned_integer = 0;  // uint64 (and every non-negative integer, for convenience)
  double number = 0.0;          // float32, float64
  std::string string;
  std::vector<std::string> strings;
  std::vector<std::int64_t> integers;
  std::vector<double> floats;

  static GgufValue of_string(std::string value);
  static GgufValue of_uint32(std::uint32_t value);
  static GgufValue of_float32(float value);
  static GgufValue of_bool(bool value);
  static GgufValue of_strings(std::vector<std::string> values);
  static GgufValue of_int32s(std::vector<std::int32_t> values);
  static GgufValue of_float32s(std::vector<float> values);

  // Member by member (so a NaN float is unequal to itself).
  bool operator==(const GgufValue&) const = default;
};

struct MEZO_API GgufTensorInfo {
  std::string name;
  std::vector<std::int64_t> dims;  // ggml order: dims[0] is the contiguous (input) dimension
  GgmlType type = GgmlType::f32;
  std::uint64_t offset = 0;     // bytes, relative to the data section
  std::uint64_t num_bytes = 0;  // of the stored (possibly quantized) data
  std::uint64_t num_elements() const;
  // PyTorch order (dims reversed): a [out, in] matrix has dims {in, out}.
  std::vector<std::int64_t> shape() const;
};

class MEZO_API GgufFile {
 public:
  // Opens and validates `path` (header, metadata, tensor infos, data bounds).
  // The data section is mapped and read by read_f32; the mapping ends with
  // the object.
  static GgufFile open(const std::filesystem::path& path);

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  const std::filesystem::path& path() const;
  std::uint32_t version() const;
  std::uint64_t alignment() const;

  // In file order.
  std::span<const std::pair<std::string, GgufValue>> metadata() const;
  const GgufValue* find(std::string_view key) const;
  // Typed getters: throw mezo::Error naming the file and key when the key is
  // absent or holds another type (any integer type is accepted where an
  // integer is asked, if the value fits; float32/float64 where a float is).
  std::uint64_t get_uint(std::string_view key) const;
  double get_float(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  const std::string& get_string(std::string_view key) const;
  const std::vector<std::string>& get_strings(std::string_view key) const;
  // Arrays: of STRING; of any integer type (or BOOL); of FLOAT32/FLOAT64.
  const std::vector<std::int64_t>& get_integers(std::string_view key) const;
  const std::vector<double>& get_floats(std::string_view key) const;

  // In file order.
  std::span<const GgufTensorInfo> tensors() const;
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // Throws mezo::Error naming the file and the tensor if it is absent.
  const GgufTensorInfo& get_tensor(std::string_view name) const;

  // Reads a tensor as fp32 into `out` (num_elements floats, in ggml order:
  // dims[0] fastest, which is PyTorch's row-major order of shape()),
  // dequantizing F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K and Q6_K
  // exactly as ggml's dequantize_row_* do (bit for bit; in parallel over
  // blocks, so the result does not depend on the thread count).
  // Throws for another type (Q8_1, Q2_K, Q3_K, Q5_K: open() accepts them),
  // a wrong out.size() or a `tensor` that is not one of this file's.
  void read_f32(const GgufTensorInfo& tensor, std::span<float> out) const;

 private:
  struct State;
  explicit GgufFile(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// One fp32 tensor to write, stored as `type` (F32, F16 or Q8_0; Q8_0 needs
// dims[0] to be a multiple of 32).
struct GgufTensorToWrite {
  std::string name;
  std::vector<std::int64_t> shape;  // PyTorch order; written reversed as GGUF dims
  std::span<const float> data;
  GgmlType type = GgmlType::f32;
};

// Writes a GGUF v3 file atomically (temp file, fsync, rename): the metadata
// exactly as given, in order, then the tensor infos and the data, each tensor
// at an offset aligned to general.alignment when `metadata` has it (a UINT32
// power of two) and to 32 otherwise. F16 rounds to nearest even; Q8_0
// quantizes as ggml's quantize_row_q8_0_ref. Throws mezo::Error
// (invalid_argument) for duplicate keys or names, a value that does not fit
// its type, an empty or 5-d shape, a zero dimension, data of the wrong size,
// or a finite value F16/Q8_0 cannot represent (|x| > 65504, a Q8_0 scale
// above 65504) and a non-finite one in Q8_0; nothing is written then.
MEZO_API void write_gguf(const std::filesystem::path& path,
                         std::span<const std::pair<std::string, GgufValue>> metadata,
                         std::span<const GgufTensorToWrite> tensors);

MEZO_END_NAMESPACE
