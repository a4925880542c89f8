// GGUF v3 writer: everything is checked and encoded in memory first, so a bad
// argument leaves no file behind, then written atomically.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include "file_io.hpp"
#include "io/gguf_dequantize.hpp"
#include "io/gguf_format.hpp"
#include "mezo/error.hpp"
#include "mezo/io/gguf.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

namespace g = detail::gguf;

constexpr std::uint32_t kQ8Block = 32;

template <typename... Args>
[[noreturn]] void fail(const std::filesystem::path& path, fmt::format_string<Args...> format,
                       Args&&... args) {
  throw Error(
      ErrorCode::invalid_argument,
      fmt::format("{}: {}", path.string(), fmt::format(format, std::forward<Args>(args)...)));
}

class Bytes {
 public:
  template <class T>
  void put(T value) {
    const auto at = out_.size();
    out_.resize(at + sizeof value);
    std::memcpy(out_.data() + at, &value, sizeof value);
  }
  void put_string(std::string_view s) {
    put<std::uint64_t>(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void pad_to(std::uint64_t alignment) {
    out_.resize((out_.size() + alignment - 1) / alignment * alignment);
  }
  std::size_t size() const { return out_.size(); }
  unsigned char* at(std::size_t offset) { return out_.data() + offset; }
  void grow(std::size_t n) { out_.resize(out_.size() + n); }
  const std::vector<unsigned char>& bytes() const { return out_; }

 private:
  std::vector<unsigned char> out_;
};

void check_string(const std::filesystem::path& path, const std::string& key, std::string_view s) {
  if (s.size() > g::kMaxStringBytes) {
    fail(path, "key '{}': a string of {} bytes exceeds GGUF's 1 GiB limit", key, s.size());
  }
}

// One integer or bool scalar of `type` (not UINT64), range-checked.
void put_integer(Bytes& out, const std::filesystem::path& path, const std::string& key,
                 GgufValueType type, std::int64_t x) {
  std::int64_t lo = 0, hi = 0;
  g::integer_range(type, lo, hi);
  if (x < lo || x > hi) {
    fail(path, "key '{}': {} does not fit in {} [{}, {}]", key, x, to_string(type), lo, hi);
  }
  switch (type) {
    case GgufValueType::uint8:
    case GgufValueType::boolean:
      return out.put(static_cast<std::uint8_t>(x));
    case GgufValueType::int8:
      return out.put(static_cast<std::int8_t>(x));
    case GgufValueType::uint16:
      return out.put(static_cast<std::uint16_t>(x));
    case GgufValueType::int16:
      return out.put(static_cast<std::int16_t>(x));
    case GgufValueType::uint32:
      return out.put(static_cast<std::uint32_t>(x));
    case GgufValueType::int32:
      return out.put(static_cast<std::int32_t>(x));
    case GgufValueType::int64:
      return out.put(x);
    case GgufValueType::uint64:  // array elements: the bits (see GgufValue)
      return out.put(static_cast<std::uint64_t>(x));
    default:
      return;
  }
}

void put_float(Bytes& out, GgufValueType type, double x) {
  if (type == GgufValueType::float32) {
    out.put(static_cast<float>(x));
  } else {
    out.put(x);
  }
}

void put_value(Bytes& out, const std::filesystem::path& path, const std::string& key,
               const GgufValue& v) {
  if (!g::is_known(static_cast<std::uint32_t>(v.type))) {
    fail(path, "key '{}': unknown value type {}", key, static_cast<std::uint32_t>(v.type));
  }
  out.put(static_cast<std::uint32_t>(v.type));
  switch (v.type) {
    case GgufValueType::string:
      check_string(path, key, v.string);
      return out.put_string(v.string);
    case GgufValueType::float32:
    case GgufValueType::float64:
      return put_float(out, v.type, v.number);
    case GgufValueType::uint64:
      return out.put(v.unsigned_integer);
    case GgufValueType::array:
      break;
    default:
      return put_integer(out, path, key, v.type, v.integer);
  }
  const GgufValueType element = v.element_type;
  if (!g::is_known(static_cast<std::uint32_t>(element)) || element == GgufValueType::array) {
    fail(path, "key '{}': an array's elements cannot be {}", key,
         element == GgufValueType::array ? "arrays" : "of an unknown type");
  }
  const std::size_t count = element == GgufValueType::string ? v.strings.size()
                            : g::is_float(element)           ? v.floats.size()
                                                             : v.integers.size();
  if (count > g::kMaxArrayElements) {
    fail(path, "key '{}': an array of {} elements exceeds GGUF's 2^30 limit", key, count);
  }
  out.put(static_cast<std::uint32_t>(element));
  out.put(static_cast<std::uint64_t>(count));
  if (element == GgufValueType::string) {
    for (const auto& s : v.strings) {
      check_string(path, key, s);
      out.put_string(s);
    }
  } else if (g::is_float(element)) {
    for (double x : v.floats) put_float(out, element, x);
  } else {
    for (std::int64_t x : v.integers) put_integer(out, path, key, element, x);
  }
}

std::string shape_string(std::span<const std::int64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// ggml's quantize_row_q8_0_ref for one block: d = amax / 127 (stored as
// fp16), q = round(x / d) half away from zero, computed as x * (1 / d).
void quantize_q8_0_block(const float* x, unsigned char* block) {
  float amax = 0.0f;
  for (std::uint32_t j = 0; j < kQ8Block; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const std::uint16_t half = detail::float_to_half(d);
  std::memcpy(block, &half, 2);
  for (std::uint32_t j = 0; j < kQ8Block; ++j) {
    const float q = std::round(x[j] * id);
    // For amax below ~4e-37, 1/d overflows and q is inf or NaN; d is then 0
    // in fp16, so every value decodes to 0 anyway: store 0 (what ggml's
    // float-to-int conversion gives on x86) instead of converting a
    // non-finite float, which C++ leaves undefined.
    const int qi = std::isfinite(q) ? static_cast<int>(std::clamp(q, -128.0f, 127.0f)) : 0;
    block[2 + j] = static_cast<unsigned char>(static_cast<std::int8_t>(qi));
  }
}

// Checks one tensor and returns its GGUF dims (shape reversed) and byte size.
std::uint64_t check_tensor(const std::filesystem::path& path, const GgufTensorToWrite& t,
                           std::vector<std::uint64_t>& dims) {
  if (t.shape.empty() || t.shape.size() > g::kMaxDims) {
    fail(path, "tensor '{}': shape {} has {} dimensions (GGUF stores 1 to {})", t.name,
         shape_string(t.shape), t.shape.size(), g::kMaxDims);
  }
  std::uint64_t elements = 1;
  for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) {
    if (*it <= 0) {
      fail(path, "tensor '{}': shape {} has a dimension below 1 (GGUF has no empty tensors)",
           t.name, shape_string(t.shape));
    }
    dims.push_back(static_cast<std::uint64_t>(*it));
    if (__builtin_mul_overflow(elements, dims.back(), &elements)) {
      fail(path, "tensor '{}': shape {} overflows 64 bits", t.name, shape_string(t.shape));
    }
  }
  if (t.data.size() != elements) {
    fail(path, "tensor '{}': shape {} needs {} floats but the data holds {}", t.name,
         shape_string(t.shape), elements, t.data.size());
  }
  detail::GgmlBlockLayout layout;
  if (t.type != GgmlType::f32 && t.type != GgmlType::f16 && t.type != GgmlType::q8_0) {
    fail(path, "tensor '{}': write_gguf stores F32, F16 or Q8_0, not {}", t.name,
         to_string(t.type));
  }
  detail::ggml_block_layout(static_cast<std::uint32_t>(t.type), layout);
  if (dims[0] % layout.block_size != 0) {
    fail(path, "tensor '{}': {} needs the last dimension of shape {} to be a multiple of {}",
         t.name, to_string(t.type), shape_string(t.shape), layout.block_size);
  }
  // A finite value must stay finite: F16 would turn it into inf, and Q8_0
  // has no inf or NaN at all (its fp16 scale d = amax / 127 must be finite).
  const auto overflows_half = [](float x) {
    return std::isinf(detail::half_to_float(detail::float_to_half(x)));
  };
  for (std::size_t i = 0; i < t.data.size(); ++i) {
    const float x = t.data[i];
    if (t.type == GgmlType::f16 && std::isfinite(x) && overflows_half(x)) {
      fail(path, "tensor '{}': element {} = {} overflows F16 (largest finite: 65504)", t.name, i,
           x);
    }
    if (t.type == GgmlType::q8_0) {
      if (!std::isfinite(x)) {
        fail(path, "tensor '{}': element {} = {} is not finite, which Q8_0 cannot store", t.name, i,
             x);
      }
      if (overflows_half(std::fabs(x) / 127.0f)) {
        fail(path, "tensor '{}': element {} = {} makes its Q8_0 block's scale overflow F16", t.name,
             i, x);
      }
    }
  }
  return elements / layout.block_size * layout.block_bytes;
}

void encode_tensor(const GgufTensorToWrite& t, unsigned char* out) {
  switch (t.type) {
    case GgmlType::f32:
      if (!t.data.empty()) std::memcpy(out, t.data.data(), t.data.size_bytes());
      return;
    case GgmlType::f16:
      for (std::size_t i = 0; i < t.data.size(); ++i) {
        const std::uint16_t h = detail::float_to_half(t.data[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return;
    case GgmlType::q8_0:
      for (std::size_t b = 0; b < t.data.size() / kQ8Block; ++b) {
        quantize_q8_0_block(t.data.data() + b * kQ8Block, out + b * 34);
      }
      return;
    default:
      return;  // refused by check_tensor
  }
}

}  // namespace

void write_gguf(const std::filesystem::path& path,
                std::span<const std::pair<std::string, GgufValue>> metadata,
                std::span<const GgufTensorToWrite> tensors) {
  Bytes out;
  out.put(std::uint32_t{0x46554747});  // "GGUF" read as a little-endian u32
  out.put(g::kWriteVersion);
  out.put(static_cast<std::uint64_t>(tensors.size()));
  out.put(static_cast<std::uint64_t>(metadata.size()));

  std::uint64_t alignment = g::kDefaultAlignment;
  std::set<std::string_view> keys;
  for (const auto& [key, value] : metadata) {
    if (!keys.insert(key).second) fail(path, "key '{}' is given twice", key);
    check_string(path, key, key);
    if (key == g::kAlignmentKey) {
      if (value.type != GgufValueType::uint32 || value.integer <= 0 ||
          value.integer > std::numeric_limits<std::uint32_t>::max() ||
          !std::has_single_bit(static_cast<std::uint64_t>(value.integer))) {
        fail(path, "key '{}' must be a UINT32 power of two", key);
      }
      alignment = static_cast<std::uint64_t>(value.integer);
    }
    out.put_string(key);
    put_value(out, path, key, value);
  }

  std::set<std::string_view> names;
  std::vector<std::uint64_t> sizes;
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (!names.insert(t.name).second) fail(path, "tensor '{}' is given twice", t.name);
    if (t.name.size() > g::kMaxStringBytes) fail(path, "a tensor name exceeds 1 GiB");
    std::vector<std::uint64_t> dims;
    const std::uint64_t bytes = check_tensor(path, t, dims);
    out.put_string(t.name);
    out.put(static_cast<std::uint32_t>(dims.size()));
    for (std::uint64_t d : dims) out.put(d);
    out.put(static_cast<std::uint32_t>(t.type));
    out.put(offset);
    sizes.push_back(bytes);
    offset += (bytes + alignment - 1) / alignment * alignment;  // ggml pads every tensor
  }

  out.pad_to(alignment);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const std::size_t at = out.size();
    out.grow(sizes[i]);
    encode_tensor(tensors[i], out.at(at));
    out.pad_to(alignment);
  }
  detail::write_file_atomically(path, out.bytes().data(), out.bytes().size());
}

MEZO_END_NAMESPACE
