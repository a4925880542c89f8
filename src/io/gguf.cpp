// GGUF reader: maps the file, checks every count, length, offset and size it
// declares against the bytes that are really there before trusting it, and
// decodes tensors to fp32 on request.
#include "mezo/io/gguf.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

#include "file_io.hpp"
#include "io/mapped_file.hpp"
#include "io/gguf_dequantize.hpp"
#include "io/gguf_format.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE

static_assert(std::endian::native == std::endian::little,
              "GGUF is little-endian; a big-endian host would need byte swaps");

namespace {

namespace g = detail::gguf;

// The smallest possible metadata entry (empty key, u32 type, one-byte value)
// and tensor info (empty name, u32 n_dims, one u64 dim, u32 type, u64 offset):
// a count larger than the bytes left can hold is a lie, refused before any
// allocation is sized by it.
constexpr std::uint64_t kMinEntryBytes = 8 + 4 + 1;
constexpr std::uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
constexpr std::uint64_t kHeaderBytes = 4 + 4 + 8 + 8;

template <typename... Args>
[[noreturn]] void fail(ErrorCode code, const std::filesystem::path& path,
                       fmt::format_string<Args...> format, Args&&... args) {
  throw Error(
      code, fmt::format("{}: {}", path.string(), fmt::format(format, std::forward<Args>(args)...)));
}

std::string dims_string(std::span<const std::int64_t> dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

std::string type_string(const GgufValue& v) {
  if (v.type == GgufValueType::array) return fmt::format("ARRAY of {}", to_string(v.element_type));
  return to_string(v.type);
}

// Reads the mapped bytes front to back; every read is checked against the
// bytes left. `describe` says what is being read, for the error message, and
// is only called on failure.
class Reader {
 public:
  Reader(const std::filesystem::path& path, const unsigned char* bytes, std::uint64_t size)
      : path_(path), bytes_(bytes), size_(size) {}

  std::uint64_t offset() const { return pos_; }
  std::uint64_t left() const { return size_ - pos_; }
  const unsigned char* here() const { return bytes_ + pos_; }
  const std::filesystem::path& path() const { return path_; }

  template <class Describe>
  void need(std::uint64_t n, const Describe& describe) const {
    if (n > left()) {
      fail(ErrorCode::invalid_format, path_,
           "{}: needs {} bytes at offset {} but the file has {} left (truncated?)", describe(), n,
           pos_, left());
    }
  }

  void skip(std::uint64_t n) { pos_ += n; }  // after need(n)

  template <class T, class Describe>
  T read(const Describe& describe) {
    need(sizeof(T), describe);
    T value;
    std::memcpy(&value, bytes_ + pos_, sizeof value);
    pos_ += sizeof value;
    return value;
  }

  template <class Describe>
  std::string string(const Describe& describe) {
    const auto length = read<std::uint64_t>([&] { return describe() + ", its length"; });
    if (length > g::kMaxStringBytes) {
      fail(ErrorCode::invalid_format, path_,
           "{}: string length {} exceeds the 1 GiB limit (corrupt length?)", describe(), length);
    }
    need(length, [&] { return fmt::format("{}, a {}-byte string", describe(), length); });
    std::string s(reinterpret_cast<const char*>(bytes_ + pos_), length);
    pos_ += length;
    return s;
  }

 private:
  const std::filesystem::path& path_;
  const unsigned char* bytes_;
  std::uint64_t size_;
  std::uint64_t pos_ = 0;
};

template <class T>
T load(const unsigned char* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

// Fills the integer members from a signed or unsigned value, as the header
// describes (both where the value fits).
void set_signed(GgufValue& v, std::int64_t x) {
  v.integer = x;
  v.unsigned_integer = x >= 0 ? static_cast<std::uint64_t>(x) : 0;
}

void set_unsigned(GgufValue& v, std::uint64_t x) {
  v.unsigned_integer = x;
  v.integer = x <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                  ? static_cast<std::int64_t>(x)
                  : 0;
}

// One integer or bool element at p, widened (a UINT64 as its bits).
std::int64_t load_integer(GgufValueType type, const unsigned char* p) {
  switch (type) {
    case GgufValueType::uint8:
    case GgufValueType::boolean:
      return load<std::uint8_t>(p);
    case GgufValueType::int8:
      return load<std::int8_t>(p);
    case GgufValueType::uint16:
      return load<std::uint16_t>(p);
    case GgufValueType::int16:
      return load<std::int16_t>(p);
    case GgufValueType::uint32:
      return load<std::uint32_t>(p);
    case GgufValueType::int32:
      return load<std::int32_t>(p);
    case GgufValueType::uint64:
      return static_cast<std::int64_t>(load<std::uint64_t>(p));
    case GgufValueType::int64:
      return load<std::int64_t>(p);
    default:
      return 0;
  }
}

double load_float(GgufValueType type, const unsigned char* p) {
  return type == GgufValueType::float32 ? static_cast<double>(load<float>(p)) : load<double>(p);
}

void check_bool(const Reader& r, std::uint8_t byte, const std::string& key, std::uint64_t index,
                bool in_array) {
  if (byte > 1) {
    if (in_array) {
      fail(ErrorCode::invalid_format, r.path(),
           "key '{}': element {} is a BOOL of value {} (not 0 or 1)", key, index, byte);
    }
    fail(ErrorCode::invalid_format, r.path(), "key '{}': BOOL of value {} (not 0 or 1)", key, byte);
  }
}

GgufValue read_array(Reader& r, const std::string& key) {
  GgufValue v;
  v.type = GgufValueType::array;
  const auto element =
      r.read<std::uint32_t>([&] { return fmt::format("key '{}': the array's element type", key); });
  if (!g::is_known(element)) {
    fail(ErrorCode::invalid_format, r.path(), "key '{}': unknown array element type {}", key,
         element);
  }
  v.element_type = static_cast<GgufValueType>(element);
  if (v.element_type == GgufValueType::array) {
    fail(ErrorCode::invalid_format, r.path(),
         "key '{}': an array of arrays (GGUF does not allow nested arrays)", key);
  }
  const auto count =
      r.read<std::uint64_t>([&] { return fmt::format("key '{}': the array's length", key); });
  if (count > g::kMaxArrayElements) {
    fail(ErrorCode::invalid_format, r.path(),
         "key '{}': array of {} elements exceeds the 2^30-element limit (corrupt length?)", key,
         count);
  }
  // Every element takes at least its size (a string at least its 8-byte
  // length), so the count is checked against the bytes left before any
  // allocation depends on it.
  const std::uint64_t min_element =
      v.element_type == GgufValueType::string ? 8 : g::scalar_bytes(v.element_type);
  if (count > r.left() / min_element) {
    fail(ErrorCode::invalid_format, r.path(),
         "key '{}': array of {} {} needs at least {} bytes at offset {} but the file has {} left "
         "(truncated?)",
         key, count, to_string(v.element_type), count * min_element, r.offset(), r.left());
  }
  if (v.element_type == GgufValueType::string) {
    v.strings.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      v.strings.push_back(r.string([&] { return fmt::format("key '{}': element {}", key, i); }));
    }
  } else if (g::is_float(v.element_type)) {
    v.floats.resize(count);
    const unsigned char* p = r.here();
    for (std::uint64_t i = 0; i < count; ++i)
      v.floats[i] = load_float(v.element_type, p + i * min_element);
    r.skip(count * min_element);
  } else {
    v.integers.resize(count);
    const unsigned char* p = r.here();
    for (std::uint64_t i = 0; i < count; ++i) {
      if (v.element_type == GgufValueType::boolean) check_bool(r, p[i], key, i, true);
      v.integers[i] = load_integer(v.element_type, p + i * min_element);
    }
    r.skip(count * min_element);
  }
  return v;
}

GgufValue read_value(Reader& r, const std::string& key) {
  const auto raw_type =
      r.read<std::uint32_t>([&] { return fmt::format("key '{}': the value type", key); });
  if (!g::is_known(raw_type)) {
    fail(ErrorCode::invalid_format, r.path(), "key '{}': unknown value type {}", key, raw_type);
  }
  const auto type = static_cast<GgufValueType>(raw_type);
  if (type == GgufValueType::array) return read_array(r, key);
  GgufValue v;
  v.type = type;
  if (type == GgufValueType::string) {
    v.string = r.string([&] { return fmt::format("key '{}': the value", key); });
    return v;
  }
  const std::uint64_t bytes = g::scalar_bytes(type);
  r.need(bytes, [&] { return fmt::format("key '{}': the {} value", key, to_string(type)); });
  const unsigned char* p = r.here();
  r.skip(bytes);
  if (g::is_float(type)) {
    v.number = load_float(type, p);
  } else if (type == GgufValueType::uint64) {
    set_unsigned(v, load<std::uint64_t>(p));
  } else {
    if (type == GgufValueType::boolean) check_bool(r, *p, key, 0, false);
    set_signed(v, load_integer(type, p));
  }
  return v;
}

}  // namespace

std::uint64_t GgufTensorInfo::num_elements() const {
  std::uint64_t n = 1;
  for (std::int64_t d : dims) {
    if (d < 0 || __builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("tensor '{}': dims {} have a negative entry or overflow 64 bits",
                              name, dims_string(dims)));
    }
  }
  return n;
}

std::vector<std::int64_t> GgufTensorInfo::shape() const { return {dims.rbegin(), dims.rend()}; }

namespace {

// What open() learns from the file, checked.
struct Parsed {
  std::filesystem::path path;
  std::uint32_t version = 0;
  std::uint64_t alignment = g::kDefaultAlignment;
  std::vector<std::pair<std::string, GgufValue>> metadata;  // file order
  std::map<std::string, std::size_t, std::less<>> key_index;
  std::vector<GgufTensorInfo> tensors;  // file order
  std::map<std::string, std::size_t, std::less<>> tensor_index;
  const unsigned char* data = nullptr;  // the data section within the map
  std::uint64_t data_size = 0;
};

}  // namespace

struct GgufFile::State : Parsed {
  detail::MappedFile file;  // the whole file, read-only

  const GgufValue& require(std::string_view key) const {
    const auto it = key_index.find(key);
    if (it == key_index.end()) {
      fail(ErrorCode::invalid_format, path, "no metadata key '{}' (the file has {} keys)", key,
           metadata.size());
    }
    return metadata[it->second].second;
  }

  [[noreturn]] void wrong_type(std::string_view key, const GgufValue& v,
                               const char* expected) const {
    fail(ErrorCode::invalid_format, path, "key '{}' holds {}, expected {}", key, type_string(v),
         expected);
  }
};

namespace {

void read_header(Reader& r, Parsed& s, std::uint64_t& tensor_count, std::uint64_t& kv_count) {
  const unsigned char* magic = r.here();
  if (std::memcmp(magic, g::kMagic.data(), 4) != 0) {
    fail(ErrorCode::invalid_format, s.path,
         "not a GGUF file: it starts with bytes {:02x} {:02x} {:02x} {:02x}, not \"GGUF\"",
         magic[0], magic[1], magic[2], magic[3]);
  }
  r.skip(4);
  s.version = r.read<std::uint32_t>([] { return std::string("the version"); });
  if (s.version == 0) fail(ErrorCode::invalid_format, s.path, "GGUF version 0 is not a version");
  if ((s.version & 0xFFFFu) == 0) {
    // A small version number written big-endian reads as N << 24.
    fail(ErrorCode::unsupported, s.path,
         "version field 0x{:08x} is a byte-swapped version {}: a big-endian GGUF file, which "
         "libmezo does not read",
         s.version, __builtin_bswap32(s.version));
  }
  if (s.version == 1) {
    fail(ErrorCode::unsupported, s.path,
         "GGUF version 1 (32-bit counts) is not supported; only versions 2 and 3 are (convert the "
         "file with a current llama.cpp)");
  }
  if (s.version > 3) {
    fail(ErrorCode::unsupported, s.path,
         "GGUF version {} is newer than the versions libmezo reads (2 and 3)", s.version);
  }
  // v2 and v3 share the layout: u64 counts and lengths (v3 only added
  // big-endian files, refused above).
  tensor_count = r.read<std::uint64_t>([] { return std::string("the tensor count"); });
  kv_count = r.read<std::uint64_t>([] { return std::string("the metadata count"); });
  if (kv_count > r.left() / kMinEntryBytes) {
    fail(ErrorCode::invalid_format, s.path,
         "the header declares {} metadata entries, more than the {} bytes after it can hold "
         "(truncated or corrupt?)",
         kv_count, r.left());
  }
}

void read_metadata(Reader& r, Parsed& s, std::uint64_t kv_count) {
  s.metadata.reserve(kv_count);
  for (std::uint64_t i = 0; i < kv_count; ++i) {
    std::string key = r.string([&] {
      return i == 0 ? std::string("metadata entry 0, the key")
                    : fmt::format("metadata entry {} (after key '{}'), the key", i,
                                  s.metadata.back().first);
    });
    if (s.key_index.count(key) != 0) {
      fail(ErrorCode::invalid_format, s.path, "key '{}' appears twice in the metadata", key);
    }
    GgufValue value = read_value(r, key);
    s.key_index.emplace(key, s.metadata.size());
    s.metadata.emplace_back(std::move(key), std::move(value));
  }
  if (const auto it = s.key_index.find(g::kAlignmentKey); it != s.key_index.end()) {
    const GgufValue& v = s.metadata[it->second].second;
    if (v.type != GgufValueType::uint32) {
      fail(ErrorCode::invalid_format, s.path, "key '{}' holds {}, expected UINT32",
           g::kAlignmentKey, type_string(v));
    }
    if (v.unsigned_integer == 0 || !std::has_single_bit(v.unsigned_integer)) {
      fail(ErrorCode::invalid_format, s.path, "key '{}' is {}, not a power of two",
           g::kAlignmentKey, v.unsigned_integer);
    }
    s.alignment = v.unsigned_integer;
  }
}

GgufTensorInfo read_tensor_info(Reader& r, Parsed& s, std::uint64_t i) {
  GgufTensorInfo t;
  t.name = r.string([&] {
    return i == 0 ? std::string("tensor info 0, the name")
                  : fmt::format("tensor info {} (after tensor '{}'), the name", i,
                                s.tensors.back().name);
  });
  const auto describe = [&](const char* what) {
    return [&t, what] { return fmt::format("tensor '{}': {}", t.name, what); };
  };
  if (s.tensor_index.count(t.name) != 0) {
    fail(ErrorCode::invalid_format, s.path, "tensor '{}' appears twice in the tensor infos",
         t.name);
  }
  const auto n_dims = r.read<std::uint32_t>(describe("the number of dimensions"));
  if (n_dims < 1 || n_dims > g::kMaxDims) {
    fail(ErrorCode::invalid_format, s.path, "tensor '{}': {} dimensions (GGUF allows 1 to {})",
         t.name, n_dims, g::kMaxDims);
  }
  std::uint64_t elements = 1;
  for (std::uint32_t d = 0; d < n_dims; ++d) {
    const auto dim = r.read<std::uint64_t>(describe("a dimension"));
    if (dim == 0 || dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(ErrorCode::invalid_format, s.path,
           "tensor '{}': dimension {} is {} (must be 1 to 2^63-1)", t.name, d, dim);
    }
    t.dims.push_back(static_cast<std::int64_t>(dim));
    if (__builtin_mul_overflow(elements, dim, &elements) ||
        elements > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(ErrorCode::invalid_format, s.path,
           "tensor '{}': dims {}... hold more than 2^63-1 elements", t.name, dims_string(t.dims));
    }
  }
  const auto type = r.read<std::uint32_t>(describe("the ggml type"));
  t.type = static_cast<GgmlType>(type);
  detail::GgmlBlockLayout layout;
  if (!detail::ggml_block_layout(type, layout)) {
    const std::string name = to_string(t.type);
    if (name.starts_with("type ")) {
      fail(ErrorCode::invalid_format, s.path, "tensor '{}': ggml type {} is not a ggml type",
           t.name, type);
    }
    fail(ErrorCode::unsupported, s.path,
         "tensor '{}': ggml type {} ({}) is not supported (libmezo reads F32, F16, BF16, Q4_0, "
         "Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q6_K)",
         t.name, type, name);
  }
  if (t.dims[0] % layout.block_size != 0) {
    fail(ErrorCode::invalid_format, s.path,
         "tensor '{}': {} stores blocks of {} along dims[0], but dims {} has {} there", t.name,
         to_string(t.type), layout.block_size, dims_string(t.dims), t.dims[0]);
  }
  if (__builtin_mul_overflow(elements / layout.block_size, std::uint64_t{layout.block_bytes},
                             &t.num_bytes)) {
    fail(ErrorCode::invalid_format, s.path, "tensor '{}': dims {} of {} overflow 64 bits of bytes",
         t.name, dims_string(t.dims), to_string(t.type));
  }
  t.offset = r.read<std::uint64_t>(describe("the data offset"));
  return t;
}

void place_tensors(Reader& r, Parsed& s, const unsigned char* file, std::uint64_t file_size) {
  // The data section starts at the end of the tensor infos rounded up to the
  // alignment (ggml's rule); a file without tensors needs no padding.
  const std::uint64_t end = r.offset();
  const std::uint64_t data_start = (end + s.alignment - 1) / s.alignment * s.alignment;
  if (s.tensors.empty()) {
    s.data_size = 0;
    return;
  }
  if (data_start > file_size) {
    fail(ErrorCode::invalid_format, s.path,
         "the data section should start at offset {} (the tensor infos end at {}, aligned to {}) "
         "but the file is {} bytes (truncated?)",
         data_start, end, s.alignment, file_size);
  }
  s.data = file + data_start;
  s.data_size = file_size - data_start;
  for (const GgufTensorInfo& t : s.tensors) {
    if (t.offset % s.alignment != 0) {
      fail(ErrorCode::invalid_format, s.path,
           "tensor '{}': data offset {} is not a multiple of the alignment {}", t.name, t.offset,
           s.alignment);
    }
    if (t.offset > s.data_size || t.num_bytes > s.data_size - t.offset) {
      fail(ErrorCode::invalid_format, s.path,
           "tensor '{}': {} bytes of {} {} at data offset {} run past the end of the data section "
           "({} bytes; truncated?)",
           t.name, t.num_bytes, to_string(t.type), dims_string(t.dims), t.offset, s.data_size);
    }
  }
  // No two tensors may share bytes (every tensor has at least one).
  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(s.tensors.size());
  for (const auto& t : s.tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo& prev = *by_offset[i - 1];
    const GgufTensorInfo& cur = *by_offset[i];
    if (cur.offset < prev.offset + prev.num_bytes) {
      fail(ErrorCode::invalid_format, s.path,
           "tensor '{}': bytes [{}, {}) overlap those of tensor '{}' [{}, {})", cur.name,
           cur.offset, cur.offset + cur.num_bytes, prev.name, prev.offset,
           prev.offset + prev.num_bytes);
    }
  }
}

}  // namespace

GgufFile GgufFile::open(const std::filesystem::path& path) {
  auto state = std::make_unique<State>();
  State& s = *state;
  s.path = path;

  s.file = detail::MappedFile::open(path, kHeaderBytes,
                                    fmt::format("the {}-byte GGUF header", kHeaderBytes));
  const unsigned char* map = s.file.data();
  const std::uint64_t file_size = s.file.size();

  Reader r(s.path, map, file_size);
  std::uint64_t tensor_count = 0, kv_count = 0;
  read_header(r, s, tensor_count, kv_count);
  read_metadata(r, s, kv_count);
  if (tensor_count > r.left() / kMinTensorInfoBytes) {
    fail(ErrorCode::invalid_format, path,
         "the header declares {} tensors, more than the {} bytes after the metadata can hold "
         "(truncated or corrupt?)",
         tensor_count, r.left());
  }
  s.tensors.reserve(tensor_count);
  for (std::uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo t = read_tensor_info(r, s, i);
    s.tensor_index.emplace(t.name, s.tensors.size());
    s.tensors.push_back(std::move(t));
  }
  place_tensors(r, s, map, file_size);
  return GgufFile(std::move(state));
}

GgufFile::GgufFile(std::unique_ptr<State> state) : state_(std::move(state)) {}
GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

const std::filesystem::path& GgufFile::path() const { return state_->path; }
std::uint32_t GgufFile::version() const { return state_->version; }
std::uint64_t GgufFile::alignment() const { return state_->alignment; }

std::span<const std::pair<std::string, GgufValue>> GgufFile::metadata() const {
  return state_->metadata;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  const auto it = state_->key_index.find(key);
  return it == state_->key_index.end() ? nullptr : &state_->metadata[it->second].second;
}

std::uint64_t GgufFile::get_uint(std::string_view key) const {
  const GgufValue& v = state_->require(key);
  if (!g::is_integer(v.type)) state_->wrong_type(key, v, "an unsigned integer");
  if (v.type == GgufValueType::uint64) return v.unsigned_integer;
  if (v.integer < 0) {
    fail(ErrorCode::invalid_format, state_->path,
         "key '{}' is {} ({}), expected an unsigned integer", key, v.integer, to_string(v.type));
  }
  return static_cast<std::uint64_t>(v.integer);
}

double GgufFile::get_float(std::string_view key) const {
  const GgufValue& v = state_->require(key);
  if (!g::is_float(v.type)) state_->wrong_type(key, v, "FLOAT32 or FLOAT64");
  return v.number;
}

bool GgufFile::get_bool(std::string_view key) const {
  const GgufValue& v = state_->require(key);
  if (v.type != GgufValueType::boolean) state_->wrong_type(key, v, "BOOL");
  return v.integer != 0;
}

const std::string& GgufFile::get_string(std::string_view key) const {
  const GgufValue& v = state_->require(key);
  if (v.type != GgufValueType::string) state_->wrong_type(key, v, "STRING");
  return v.string;
}

const std::vector<std::string>& GgufFile::get_strings(std::string_view key) const {
  const GgufValue& v = state_->require(key);
  if (v.type != GgufValueType::array || v.element_type != GgufValueType::string) {
    state_->wrong_type(key, v, "ARRAY of STRING");
  }
  return v.strings;
}

const std::vector<std::int64_t>& GgufFile::get_integers(std::string_view key) const {
  const GgufValue& v = state_->require(key);
  if (v.type != GgufValueType::array ||
      !(g::is_integer(v.element_type) || v.element_type == GgufValueType::boolean)) {
    state_->wrong_type(key, v, "an ARRAY of integers");
  }
  return v.integers;
}

const std::vector<double>& GgufFile::get_floats(std::string_view key) const {
  const GgufValue& v = state_->require(key);
  if (v.type != GgufValueType::array || !g::is_float(v.element_type)) {
    state_->wrong_type(key, v, "an ARRAY of FLOAT32 or FLOAT64");
  }
  return v.floats;
}

std::span<const GgufTensorInfo> GgufFile::tensors() const { return state_->tensors; }

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  const auto it = state_->tensor_index.find(name);
  return it == state_->tensor_index.end() ? nullptr : &state_->tensors[it->second];
}

const GgufTensorInfo& GgufFile::get_tensor(std::string_view name) const {
  if (const GgufTensorInfo* t = find_tensor(name)) return *t;
  fail(ErrorCode::invalid_format, state_->path, "no tensor named '{}' (the file has {} tensors)",
       name, state_->tensors.size());
}

void GgufFile::read_f32(const GgufTensorInfo& tensor, std::span<float> out) const {
  const auto& path = state_->path;
  // `tensor` normally comes from tensors(); a hand-made or altered one must
  // match this file's tensor of that name before the mapping is touched.
  const GgufTensorInfo* own = find_tensor(tensor.name);
  if (own == nullptr || own->dims != tensor.dims || own->type != tensor.type ||
      own->offset != tensor.offset || own->num_bytes != tensor.num_bytes) {
    fail(ErrorCode::invalid_argument, path,
         "tensor '{}': {} {} at data offset {} does not describe a tensor of this file",
         tensor.name, to_string(tensor.type), dims_string(tensor.dims), tensor.offset);
  }
  const std::uint64_t elements = own->num_elements();
  if (out.size() != elements) {
    fail(ErrorCode::invalid_argument, path,
         "tensor '{}': the output holds {} floats but dims {} have {} elements", own->name,
         out.size(), dims_string(own->dims), elements);
  }
  if (!detail::can_dequantize(own->type)) {
    fail(ErrorCode::unsupported, path,
         "tensor '{}': type {} cannot be read as fp32 (libmezo decodes F32, F16, BF16, Q4_0, "
         "Q4_1, Q5_0, Q5_1, Q8_0, Q4_K and Q6_K)",
         own->name, to_string(own->type));
  }
  detail::dequantize_row(own->type, state_->data + own->offset, out);
}

MEZO_END_NAMESPACE
