#include "mezo/io/safetensors.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "file_io.hpp"
#include "io/mapped_file.hpp"
#include "io/half_float.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

namespace {

using ordered_json = nlohmann::ordered_json;

// A header larger than this is a corrupt length field, not a real file (the
// reference implementation uses the same limit).
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr std::string_view kMetadataKey = "__metadata__";

template <typename... Args>
[[noreturn]] void fail(ErrorCode code, const std::filesystem::path& path,
                       fmt::format_string<Args...> format, Args&&... args) {
  throw Error(
      code, fmt::format("{}: {}", path.string(), fmt::format(format, std::forward<Args>(args)...)));
}

std::string shape_string(std::span<const std::int64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// The JSON value as it appears in the file, cut short for messages.
std::string excerpt(const ordered_json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

bool parse_dtype(std::string_view text, TensorDType& dtype) {
  static constexpr TensorDType all[] = {TensorDType::f64,    TensorDType::f32, TensorDType::f16,
                                        TensorDType::bf16,   TensorDType::i64, TensorDType::i32,
                                        TensorDType::i16,    TensorDType::i8,  TensorDType::u8,
                                        TensorDType::boolean};
  for (TensorDType d : all) {
    if (text == to_string(d)) {
      dtype = d;
      return true;
    }
  }
  return false;
}

// product(shape) * element_size, or false if a dimension is negative or the
// product does not fit in 64 bits.
bool checked_byte_size(std::span<const std::int64_t> shape, std::size_t element_size,
                       std::uint64_t& elements, std::uint64_t& bytes) {
  std::uint64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) return false;
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n)) return false;
  }
  std::uint64_t b = 0;
  if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(element_size), &b)) return false;
  elements = n;
  bytes = b;
  return true;
}

// Reads a JSON value that must be a non-negative integer fitting in int64.
bool as_non_negative(const ordered_json& value, std::int64_t& out) {
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    out = static_cast<std::int64_t>(v);
    return true;
  }
  if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    if (v < 0) return false;
    out = v;
    return true;
  }
  return false;
}

std::uint64_t load_u64_le(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

const char* to_string(TensorDType dtype) noexcept {
  switch (dtype) {
    case TensorDType::f64:
      return "F64";
    case TensorDType::f32:
      return "F32";
    case TensorDType::f16:
      return "F16";
    case TensorDType::bf16:
      return "BF16";
    case TensorDType::i64:
      return "I64";
    case TensorDType::i32:
      return "I32";
    case TensorDType::i16:
      return "I16";
    case TensorDType::i8:
      return "I8";
    case TensorDType::u8:
      return "U8";
    case TensorDType::boolean:
      return "BOOL";
  }
  return "?";
}

std::size_t size_of(TensorDType dtype) noexcept {
  switch (dtype) {
    case TensorDType::f64:
    case TensorDType::i64:
      return 8;
    case TensorDType::f32:
    case TensorDType::i32:
      return 4;
    case TensorDType::f16:
    case TensorDType::bf16:
    case TensorDType::i16:
      return 2;
    case TensorDType::i8:
    case TensorDType::u8:
    case TensorDType::boolean:
      return 1;
  }
  return 0;
}

std::uint64_t TensorInfo::num_elements() const {
  std::uint64_t elements = 0, bytes = 0;
  if (!checked_byte_size(shape, 1, elements, bytes)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("tensor '{}': shape {} has a negative dimension or overflows 64 bits",
                            name, shape_string(shape)));
  }
  return elements;
}

namespace {

// What the JSON header says, checked.
struct Header {
  std::vector<TensorInfo> tensors;  // header order
  std::map<std::string, std::size_t, std::less<>> index;
  std::map<std::string, std::string> metadata;
};

}  // namespace

struct SafetensorsFile::State : Header {
  std::filesystem::path path;
  detail::MappedFile file;              // the whole file, read-only
  const unsigned char* data = nullptr;  // the data section within the map
  std::uint64_t data_size = 0;
};

namespace {

TensorInfo parse_entry(const std::filesystem::path& path, const std::string& name,
                       const ordered_json& entry, std::uint64_t data_size) {
  if (!entry.is_object()) {
    fail(ErrorCode::invalid_format, path,
         "tensor '{}': expected an object with dtype, shape and data_offsets, got {}", name,
         excerpt(entry));
  }
  TensorInfo info;
  info.name = name;

  const auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end()) fail(ErrorCode::invalid_format, path, "tensor '{}': no dtype", name);
  if (!dtype_it->is_string() || !parse_dtype(dtype_it->get_ref<const std::string&>(), info.dtype)) {
    fail(ErrorCode::invalid_format, path,
         "tensor '{}': unknown dtype {} (expected one of F64, F32, F16, BF16, I64, I32, I16, I8, "
         "U8, BOOL)",
         name, excerpt(*dtype_it));
  }

  const auto shape_it = entry.find("shape");
  if (shape_it == entry.end()) fail(ErrorCode::invalid_format, path, "tensor '{}': no shape", name);
  if (!shape_it->is_array()) {
    fail(ErrorCode::invalid_format, path,
         "tensor '{}': shape must be an array of non-negative integers, got {}", name,
         excerpt(*shape_it));
  }
  for (const auto& dim : *shape_it) {
    std::int64_t d = 0;
    if (!as_non_negative(dim, d)) {
      fail(ErrorCode::invalid_format, path,
           "tensor '{}': shape must be an array of non-negative integers, got {}", name,
           excerpt(*shape_it));
    }
    info.shape.push_back(d);
  }

  const auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end()) {
    fail(ErrorCode::invalid_format, path, "tensor '{}': no data_offsets", name);
  }
  std::int64_t begin = 0, end = 0;
  if (!offsets_it->is_array() || offsets_it->size() != 2 ||
      !as_non_negative((*offsets_it)[0], begin) || !as_non_negative((*offsets_it)[1], end)) {
    fail(ErrorCode::invalid_format, path,
         "tensor '{}': data_offsets must be two non-negative integers [begin, end], got {}", name,
         excerpt(*offsets_it));
  }
  info.begin = static_cast<std::uint64_t>(begin);
  info.end = static_cast<std::uint64_t>(end);
  if (info.begin > info.end) {
    fail(ErrorCode::invalid_format, path,
         "tensor '{}': data_offsets [{}, {}] end before they begin", name, info.begin, info.end);
  }
  if (info.end > data_size) {
    fail(ErrorCode::invalid_format, path,
         "tensor '{}': data_offsets [{}, {}] run past the end of the data section ({} bytes; "
         "the file is truncated or the header lies)",
         name, info.begin, info.end, data_size);
  }

  std::uint64_t elements = 0, bytes = 0;
  if (!checked_byte_size(info.shape, size_of(info.dtype), elements, bytes)) {
    fail(ErrorCode::invalid_format, path, "tensor '{}': shape {} of {} overflows 64 bits", name,
         shape_string(info.shape), to_string(info.dtype));
  }
  if (info.end - info.begin != bytes) {
    fail(ErrorCode::invalid_format, path,
         "tensor '{}': data_offsets [{}, {}] hold {} bytes but shape {} of {} needs {}", name,
         info.begin, info.end, info.end - info.begin, shape_string(info.shape),
         to_string(info.dtype), bytes);
  }
  return info;
}

Header parse_header(const std::filesystem::path& path, std::string_view text,
                    std::uint64_t data_size) {
  Header result;
  // nlohmann keeps the last of two equal keys; a duplicated tensor name is
  // a broken file, so remember the top-level keys while parsing.
  std::set<std::string, std::less<>> seen;
  std::string duplicate;
  const ordered_json::parser_callback_t remember_keys =
      [&](int depth, ordered_json::parse_event_t event, ordered_json& parsed) {
        if (depth == 1 && event == ordered_json::parse_event_t::key && duplicate.empty()) {
          const auto& key = parsed.get_ref<const std::string&>();
          if (!seen.insert(key).second) duplicate = key;
        }
        return true;
      };
  ordered_json header;
  try {
    header = ordered_json::parse(text.begin(), text.end(), remember_keys);
  } catch (const ordered_json::exception& e) {  // parse_error, or out_of_range for 1e400
    fail(ErrorCode::invalid_format, path, "the header is not valid JSON: {}", e.what());
  }
  if (!header.is_object()) {
    fail(ErrorCode::invalid_format, path, "the header must be a JSON object, got {}",
         header.type_name());
  }
  if (!duplicate.empty()) {
    fail(ErrorCode::invalid_format, path, "tensor '{}' appears twice in the header", duplicate);
  }

  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey) {
      if (!value.is_object()) {
        fail(ErrorCode::invalid_format, path,
             "field '__metadata__' must be an object of strings, got {}", value.type_name());
      }
      for (const auto& [mkey, mvalue] : value.items()) {
        if (!mvalue.is_string()) {
          fail(ErrorCode::invalid_format, path,
               "field '__metadata__': value of '{}' must be a string, got {}", mkey,
               excerpt(mvalue));
        }
        result.metadata.emplace(mkey, mvalue.get<std::string>());
      }
      continue;
    }
    result.index.emplace(key, result.tensors.size());
    result.tensors.push_back(parse_entry(path, key, value, data_size));
  }

  // No two tensors may share bytes. Empty tensors occupy nothing.
  std::vector<const TensorInfo*> by_begin;
  for (const auto& t : result.tensors) {
    if (t.end > t.begin) by_begin.push_back(&t);
  }
  std::sort(by_begin.begin(), by_begin.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < by_begin.size(); ++i) {
    const TensorInfo& prev = *by_begin[i - 1];
    const TensorInfo& cur = *by_begin[i];
    if (cur.begin < prev.end) {
      fail(ErrorCode::invalid_format, path,
           "tensor '{}': data_offsets [{}, {}] overlap those of tensor '{}' [{}, {}]", cur.name,
           cur.begin, cur.end, prev.name, prev.begin, prev.end);
    }
  }
  return result;
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  auto state = std::make_unique<State>();
  state->path = path;

  state->file = detail::MappedFile::open(path, 8, "the 8-byte header length");
  const std::uint64_t file_size = state->file.size();

  const unsigned char* bytes = state->file.data();
  const std::uint64_t header_size = load_u64_le(bytes);
  if (header_size > kMaxHeaderBytes) {
    fail(ErrorCode::invalid_format, path,
         "header length {} exceeds the {}-byte limit (not a safetensors file, or corrupt)",
         header_size, kMaxHeaderBytes);
  }
  if (header_size > file_size - 8) {
    fail(ErrorCode::invalid_format, path,
         "header length {} runs past the end of the file ({} bytes; truncated?)", header_size,
         file_size);
  }
  state->data = bytes + 8 + header_size;
  state->data_size = file_size - 8 - header_size;
  static_cast<Header&>(*state) =
      parse_header(path, std::string_view(reinterpret_cast<const char*>(bytes + 8), header_size),
                   state->data_size);
  return SafetensorsFile(std::move(state));
}

SafetensorsFile::SafetensorsFile(std::unique_ptr<State> state) : state_(std::move(state)) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

const std::filesystem::path& SafetensorsFile::path() const { return state_->path; }

std::span<const TensorInfo> SafetensorsFile::tensors() const { return state_->tensors; }

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  const auto it = state_->index.find(name);
  return it == state_->index.end() ? nullptr : &state_->tensors[it->second];
}

const TensorInfo& SafetensorsFile::get(std::string_view name) const {
  if (const TensorInfo* t = find(name)) return *t;
  fail(ErrorCode::invalid_format, state_->path, "no tensor named '{}' (the file has {} tensors)",
       name, state_->tensors.size());
}

const std::map<std::string, std::string>& SafetensorsFile::metadata() const {
  return state_->metadata;
}

void SafetensorsFile::read_f32(const TensorInfo& tensor, std::span<float> out) const {
  const auto& path = state_->path;
  std::uint64_t elements = 0, bytes = 0;
  // `tensor` normally comes from tensors(); a hand-made one must still lie
  // inside the data section before we touch the mapping.
  if (!checked_byte_size(tensor.shape, size_of(tensor.dtype), elements, bytes) ||
      tensor.begin > tensor.end || tensor.end > state_->data_size ||
      tensor.end - tensor.begin != bytes) {
    fail(ErrorCode::invalid_argument, path,
         "tensor '{}': shape {} of {} at data_offsets [{}, {}] does not describe a tensor of "
         "this file",
         tensor.name, shape_string(tensor.shape), to_string(tensor.dtype), tensor.begin,
         tensor.end);
  }
  if (out.size() != elements) {
    fail(ErrorCode::invalid_argument, path,
         "tensor '{}': the output holds {} floats but shape {} has {} elements", tensor.name,
         out.size(), shape_string(tensor.shape), elements);
  }
  const unsigned char* src = state_->data + tensor.begin;
  switch (tensor.dtype) {
    case TensorDType::f32:
      if (elements != 0) std::memcpy(out.data(), src, bytes);
      return;
    case TensorDType::f16:
      for (std::size_t i = 0; i < out.size(); ++i) {
        std::uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = detail::half_to_float(h);
      }
      return;
    case TensorDType::bf16:
      for (std::size_t i = 0; i < out.size(); ++i) {
        std::uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        out[i] = detail::bf16_to_float(b);
      }
      return;
    default:
      fail(ErrorCode::invalid_argument, path,
           "tensor '{}': dtype {} cannot be read as fp32 (only F32, F16 and BF16 can)", tensor.name,
           to_string(tensor.dtype));
  }
}

void write_safetensors(const std::filesystem::path& path, std::span<const TensorF32View> tensors,
                       const std::map<std::string, std::string>& metadata) {
  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json meta = ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header[std::string(kMetadataKey)] = std::move(meta);
  }
  std::set<std::string_view> names;
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (t.name.empty() || t.name == kMetadataKey) {
      fail(ErrorCode::invalid_argument, path, "tensor name '{}' is reserved or empty", t.name);
    }
    if (!names.insert(t.name).second) {
      fail(ErrorCode::invalid_argument, path, "tensor '{}' is given twice", t.name);
    }
    std::uint64_t elements = 0, bytes = 0;
    if (!checked_byte_size(t.shape, sizeof(float), elements, bytes)) {
      fail(ErrorCode::invalid_argument, path,
           "tensor '{}': shape {} has a negative dimension or overflows 64 bits", t.name,
           shape_string(t.shape));
    }
    if (t.data.size() != elements) {
      fail(ErrorCode::invalid_argument, path,
           "tensor '{}': shape {} needs {} floats but the data holds {}", t.name,
           shape_string(t.shape), elements, t.data.size());
    }
    header[t.name] = {
        {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }

  std::string text;
  try {
    text = header.dump();
  } catch (const ordered_json::type_error& e) {
    fail(ErrorCode::invalid_argument, path, "tensor names and metadata must be valid UTF-8: {}",
         e.what());
  }
  // Like the reference writer: pad with spaces so the data section starts on
  // an 8-byte boundary.
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<unsigned char> file(8 + text.size() + offset);
  const std::uint64_t header_size = text.size();
  std::memcpy(file.data(), &header_size, 8);
  std::memcpy(file.data() + 8, text.data(), text.size());
  unsigned char* data = file.data() + 8 + text.size();
  for (const auto& t : tensors) {
    if (!t.data.empty()) std::memcpy(data, t.data.data(), t.data.size_bytes());
    data += t.data.size_bytes();
  }
  detail::write_file_atomically(path, file.data(), file.size());
}

MEZO_END_NAMESPACE
