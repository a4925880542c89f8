// GGUF: metadata of every type read from hand-made bytes and round-tripped
// through write_gguf; tensors written as F32/F16/Q8_0 and read back; every
// block decoder against gguf-py (tests/fixtures/gguf_quants, made by
// tools/make_gguf_quant_fixtures.py) and fp16 against the compiler's
// _Float16; and every kind of broken file reported as a mezo::Error naming
// the file and the key or tensor at fault, truncations at every byte included.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <mezo/error.hpp>
#include <mezo/io/gguf.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "io/gguf_dequantize.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using mezo::GgmlType;
using mezo::GgufValue;
using mezo::GgufValueType;
using mezo_test::bits_of;
using mezo_test::error_of;
using mezo_test::TempDir;
using mezo_test::write_bytes;

const fs::path kFixtures = MEZO_TEST_FIXTURES_DIR;

// ---- A GGUF file made byte by byte -------------------------------------------

template <class T>
std::string le(T value) {
  std::string s(sizeof value, '\0');
  std::memcpy(s.data(), &value, sizeof value);
  return s;
}

std::string str(std::string_view s) { return le<std::uint64_t>(s.size()) + std::string(s); }

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string u32(std::uint32_t v) { return le(v); }
std::string u64(std::uint64_t v) { return le(v); }

// One metadata entry: key, type, the value's bytes as given.
std::string kv(std::string_view key, GgufValueType type, const std::string& value) {
  return str(key) + u32(static_cast<std::uint32_t>(type)) + value;
}

std::string array(GgufValueType element, std::uint64_t count, const std::string& elements) {
  return u32(static_cast<std::uint32_t>(element)) + u64(count) + elements;
}

std::string tensor_info(std::string_view name, std::vector<std::uint64_t> dims, std::uint32_t type,
                        std::uint64_t offset) {
  std::string s = str(name) + u32(static_cast<std::uint32_t>(dims.size()));
  for (auto d : dims) s += u64(d);
  return s + u32(type) + u64(offset);
}

struct GgufBytes {
  std::uint32_t version = 3;
  std::vector<std::string> entries;  // kv() results
  std::vector<std::string> infos;    // tensor_info() results
  std::string data;                  // the data section
  std::uint64_t alignment = 32;

  // Appends a tensor's bytes at the next aligned offset of the data section.
  GgufBytes& tensor(std::string_view name, std::vector<std::uint64_t> dims, GgmlType type,
                    const std::string& bytes) {
    data.resize((data.size() + alignment - 1) / alignment * alignment, '\0');
    infos.push_back(
        tensor_info(name, std::move(dims), static_cast<std::uint32_t>(type), data.size()));
    data += bytes;
    return *this;
  }

  std::string header_and_infos() const {
    std::string s = "GGUF" + u32(version) + u64(infos.size()) + u64(entries.size());
    for (const auto& e : entries) s += e;
    for (const auto& i : infos) s += i;
    return s;
  }

  std::string bytes() const {
    std::string s = header_and_infos();
    if (!infos.empty()) s.resize((s.size() + alignment - 1) / alignment * alignment, '\0');
    return s + data;
  }
};

std::string f32_bytes(std::initializer_list<float> values) {
  std::string s;
  for (float v : values) s += le(v);
  return s;
}

// A valid file with every kind of part, the basis of the broken cases.
GgufBytes sample() {
  GgufBytes g;
  g.entries.push_back(kv("general.architecture", GgufValueType::string, str("llama")));
  g.entries.push_back(kv("llama.block_count", GgufValueType::uint32, u32(2)));
  g.entries.push_back(kv("tokenizer.ggml.tokens", GgufValueType::array,
                         array(GgufValueType::string, 2, str("a") + str("bc"))));
  g.tensor("token_embd.weight", {2, 3}, GgmlType::f32, f32_bytes({1, 2, 3, 4, 5, 6}));
  g.tensor("output_norm.weight", {2}, GgmlType::f32, f32_bytes({0.5f, -1}));
  return g;
}

// ---- Metadata ------------------------------------------------------------------

TEST(Gguf, ReadsEveryMetadataValueTypeFromHandMadeBytes) {
  TempDir dir;
  GgufBytes g;
  g.entries = {
      kv("u8", GgufValueType::uint8, le<std::uint8_t>(250)),
      kv("i8", GgufValueType::int8, le<std::int8_t>(-128)),
      kv("u16", GgufValueType::uint16, le<std::uint16_t>(65535)),
      kv("i16", GgufValueType::int16, le<std::int16_t>(-32768)),
      kv("u32", GgufValueType::uint32, u32(4294967295u)),
      kv("i32", GgufValueType::int32, le<std::int32_t>(-2147483647 - 1)),
      kv("f32", GgufValueType::float32, le(0.1f)),
      kv("bool", GgufValueType::boolean, le<std::uint8_t>(1)),
      kv("str", GgufValueType::string, str("ünïcode")),
      kv("u64", GgufValueType::uint64, u64(18446744073709551615ull)),
      kv("i64", GgufValueType::int64, le<std::int64_t>(std::numeric_limits<std::int64_t>::min())),
      kv("f64", GgufValueType::float64, le(0.1)),
      kv("empty_str", GgufValueType::string, str("")),
      kv("a_u8", GgufValueType::array, array(GgufValueType::uint8, 2, "\x01\xff")),
      kv("a_i8", GgufValueType::array, array(GgufValueType::int8, 2, "\x01\xff")),
      kv("a_u16", GgufValueType::array, array(GgufValueType::uint16, 1, le<std::uint16_t>(65535))),
      kv("a_i16", GgufValueType::array, array(GgufValueType::int16, 1, le<std::int16_t>(-2))),
      kv("a_u32", GgufValueType::array, array(GgufValueType::uint32, 1, u32(4294967295u))),
      kv("a_i32", GgufValueType::array,
         array(GgufValueType::int32, 3,
               le<std::int32_t>(-1) + le<std::int32_t>(0) + le<std::int32_t>(7))),
      kv("a_f32", GgufValueType::array, array(GgufValueType::float32, 2, le(1.5f) + le(-0.1f))),
      kv("a_bool", GgufValueType::array,
         array(GgufValueType::boolean, 3, std::string("\x01\x00\x01", 3))),
      kv("a_str", GgufValueType::array,
         array(GgufValueType::string, 3, str("x") + str("") + str("yz"))),
      kv("a_u64", GgufValueType::array, array(GgufValueType::uint64, 2, u64(5) + u64(~0ull))),
      kv("a_i64", GgufValueType::array, array(GgufValueType::int64, 1, le<std::int64_t>(-5))),
      kv("a_f64", GgufValueType::array, array(GgufValueType::float64, 1, le(2.5))),
      kv("a_empty", GgufValueType::array, array(GgufValueType::uint32, 0, "")),
  };
  const fs::path path = write_bytes(dir / "meta.gguf", g.bytes());
  const auto file = mezo::GgufFile::open(path);
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.alignment(), 32u);
  EXPECT_TRUE(file.tensors().empty());
  ASSERT_EQ(file.metadata().size(), g.entries.size());
  EXPECT_EQ(file.metadata()[0].first, "u8");  // file order
  EXPECT_EQ(file.metadata().back().first, "a_empty");

  EXPECT_EQ(file.get_uint("u8"), 250u);
  EXPECT_EQ(file.find("i8")->integer, -128);
  EXPECT_EQ(file.get_uint("u16"), 65535u);
  EXPECT_EQ(file.find("i16")->integer, -32768);
  EXPECT_EQ(file.get_uint("u32"), 4294967295u);
  EXPECT_EQ(file.find("i32")->integer, std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(file.get_float("f32"), static_cast<double>(0.1f));
  EXPECT_TRUE(file.get_bool("bool"));
  EXPECT_EQ(file.get_string("str"), "ünïcode");
  EXPECT_EQ(file.get_uint("u64"), 18446744073709551615ull);
  EXPECT_EQ(file.find("i64")->integer, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(file.get_float("f64"), 0.1);
  EXPECT_EQ(file.get_string("empty_str"), "");
  EXPECT_EQ(file.get_integers("a_u8"), (std::vector<std::int64_t>{1, 255}));
  EXPECT_EQ(file.get_integers("a_i8"), (std::vector<std::int64_t>{1, -1}));
  EXPECT_EQ(file.get_integers("a_u16"), (std::vector<std::int64_t>{65535}));
  EXPECT_EQ(file.get_integers("a_i16"), (std::vector<std::int64_t>{-2}));
  EXPECT_EQ(file.get_integers("a_u32"), (std::vector<std::int64_t>{4294967295}));
  EXPECT_EQ(file.get_integers("a_i32"), (std::vector<std::int64_t>{-1, 0, 7}));
  EXPECT_EQ(file.get_floats("a_f32"), (std::vector<double>{1.5, static_cast<double>(-0.1f)}));
  EXPECT_EQ(file.get_integers("a_bool"), (std::vector<std::int64_t>{1, 0, 1}));
  EXPECT_EQ(file.get_strings("a_str"), (std::vector<std::string>{"x", "", "yz"}));
  // A UINT64 element above INT64_MAX keeps its bits.
  ASSERT_EQ(file.get_integers("a_u64").size(), 2u);
  EXPECT_EQ(static_cast<std::uint64_t>(file.get_integers("a_u64")[1]), ~0ull);
  EXPECT_EQ(file.get_integers("a_i64"), (std::vector<std::int64_t>{-5}));
  EXPECT_EQ(file.get_floats("a_f64"), (std::vector<double>{2.5}));
  EXPECT_TRUE(file.get_integers("a_empty").empty());
  EXPECT_EQ(file.find("a_str")->element_type, GgufValueType::string);
  EXPECT_EQ(file.find("missing"), nullptr);
}

// Every value type, as the writer's users build them.
std::vector<std::pair<std::string, GgufValue>> every_value_type() {
  std::vector<std::pair<std::string, GgufValue>> m;
  const auto scalar = [&](const char* key, GgufValueType type, std::int64_t x) {
    GgufValue v;
    v.type = type;
    v.integer = x;
    v.unsigned_integer = x >= 0 ? static_cast<std::uint64_t>(x) : 0;
    m.emplace_back(key, v);
  };
  scalar("t.uint8", GgufValueType::uint8, 255);
  scalar("t.int8", GgufValueType::int8, -128);
  scalar("t.uint16", GgufValueType::uint16, 65535);
  scalar("t.int16", GgufValueType::int16, -32768);
  m.emplace_back("t.uint32", GgufValue::of_uint32(4294967295u));
  scalar("t.int32", GgufValueType::int32, -2147483648ll);
  m.emplace_back("t.float32", GgufValue::of_float32(-0.1f));
  m.emplace_back("t.bool", GgufValue::of_bool(false));
  m.emplace_back("t.string", GgufValue::of_string("ünïcode\n\ttabs"));
  GgufValue u64;
  u64.type = GgufValueType::uint64;
  u64.unsigned_integer = 18446744073709551615ull;  // above INT64_MAX: integer stays 0
  m.emplace_back("t.uint64", u64);
  scalar("t.int64", GgufValueType::int64, std::numeric_limits<std::int64_t>::min());
  GgufValue f64;
  f64.type = GgufValueType::float64;
  f64.number = 0.1;
  m.emplace_back("t.float64", f64);
  m.emplace_back("t.strings", GgufValue::of_strings({"a", "", "ccc"}));
  m.emplace_back("t.int32s", GgufValue::of_int32s({-1, 0, 2147483647}));
  for (auto element : {GgufValueType::uint8, GgufValueType::int8, GgufValueType::uint16,
                       GgufValueType::int16, GgufValueType::uint32, GgufValueType::boolean,
                       GgufValueType::uint64, GgufValueType::int64}) {
    GgufValue a;
    a.type = GgufValueType::array;
    a.element_type = element;
    a.integers = {0, 1};
    if (element == GgufValueType::int8) a.integers.push_back(-128);
    if (element == GgufValueType::uint64) a.integers.push_back(-1);  // the bits of 2^64 - 1
    m.emplace_back(std::string("t.array_of_") + mezo::to_string(element), a);
  }
  for (auto element : {GgufValueType::float32, GgufValueType::float64}) {
    GgufValue a;
    a.type = GgufValueType::array;
    a.element_type = element;
    a.floats = {0.5, -2.0, 3.25};  // exact in float32 too
    m.emplace_back(std::string("t.array_of_") + mezo::to_string(element), a);
  }
  GgufValue empty;
  empty.type = GgufValueType::array;
  empty.element_type = GgufValueType::string;
  m.emplace_back("t.empty_array", empty);
  return m;
}

TEST(Gguf, WriteThenOpenRoundTripsEveryMetadataTypeInOrder) {
  TempDir dir;
  const auto metadata = every_value_type();
  mezo::write_gguf(dir / "meta.gguf", metadata, {});
  const auto file = mezo::GgufFile::open(dir / "meta.gguf");
  EXPECT_EQ(file.version(), 3u);
  ASSERT_EQ(file.metadata().size(), metadata.size());
  for (std::size_t i = 0; i < metadata.size(); ++i) {
    EXPECT_EQ(file.metadata()[i].first, metadata[i].first);
    EXPECT_TRUE(file.metadata()[i].second == metadata[i].second) << metadata[i].first;
  }
  EXPECT_EQ(file.get_uint("t.uint64"), 18446744073709551615ull);
  EXPECT_EQ(file.find("t.float32")->number, static_cast<double>(-0.1f));
}

TEST(Gguf, TypedGettersConvertWhatFitsAndNameTheKeyOtherwise) {
  TempDir dir;
  const auto metadata = every_value_type();
  mezo::write_gguf(dir / "meta.gguf", metadata, {});
  const auto file = mezo::GgufFile::open(dir / "meta.gguf");
  // Any non-negative integer type is an unsigned integer.
  EXPECT_EQ(file.get_uint("t.uint8"), 255u);
  EXPECT_EQ(file.get_uint("t.uint16"), 65535u);
  const auto code = mezo::ErrorCode::invalid_format;
  std::string msg = error_of([&] { (void)file.get_uint("t.int8"); }, code);
  EXPECT_CONTAINS(msg, "meta.gguf");
  EXPECT_CONTAINS(msg, "'t.int8'");
  EXPECT_CONTAINS(msg, "-128");
  msg = error_of([&] { (void)file.get_uint("t.string"); }, code);
  EXPECT_CONTAINS(msg, "'t.string'");
  EXPECT_CONTAINS(msg, "STRING");
  msg = error_of([&] { (void)file.get_uint("t.bool"); }, code);
  EXPECT_CONTAINS(msg, "BOOL");
  EXPECT_EQ(file.get_float("t.float64"), 0.1);
  msg = error_of([&] { (void)file.get_float("t.uint32"); }, code);
  EXPECT_CONTAINS(msg, "'t.uint32'");
  EXPECT_CONTAINS(msg, "UINT32");
  EXPECT_FALSE(file.get_bool("t.bool"));
  error_of([&] { (void)file.get_bool("t.uint8"); }, code);
  error_of([&] { (void)file.get_string("t.strings"); }, code);
  msg = error_of([&] { (void)file.get_strings("t.int32s"); }, code);
  EXPECT_CONTAINS(msg, "ARRAY of INT32");
  EXPECT_EQ(file.get_integers("t.array_of_BOOL"), (std::vector<std::int64_t>{0, 1}));
  error_of([&] { (void)file.get_integers("t.strings"); }, code);
  error_of([&] { (void)file.get_integers("t.uint32"); }, code);
  error_of([&] { (void)file.get_floats("t.int32s"); }, code);
  msg = error_of([&] { (void)file.get_uint("llama.block_count"); }, code);
  EXPECT_CONTAINS(msg, "meta.gguf");
  EXPECT_CONTAINS(msg, "'llama.block_count'");
}

// ---- Tensors through write_gguf -------------------------------------------------

TEST(Gguf, WriteThenOpenKeepsF32BitsShapesOrderAndAlignment) {
  TempDir dir;
  std::vector<float> w = mezo_test::random_f32(6 * 32, 1, 1.0f);
  w[3] = -0.0f;
  w[4] = std::numeric_limits<float>::infinity();
  w[5] = std::numeric_limits<float>::denorm_min();
  const std::vector<float> b{1.0f, -2.0f, 3.5f};
  const std::vector<mezo::GgufTensorToWrite> tensors = {
      {"z.weight", {6, 32}, w, GgmlType::f32},  // not sorted: the order must be kept
      {"a.bias", {3}, b, GgmlType::f32},
      {"c.scalar", {1, 1, 1, 1}, std::span<const float>(b).first(1), GgmlType::f32},
  };
  mezo::write_gguf(dir / "t.gguf", {}, tensors);
  auto file = mezo::GgufFile::open(dir / "t.gguf");
  ASSERT_EQ(file.tensors().size(), 3u);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& info = file.tensors()[i];
    EXPECT_EQ(info.name, tensors[i].name);
    EXPECT_EQ(info.shape(), tensors[i].shape);
    EXPECT_EQ(info.type, GgmlType::f32);
    EXPECT_EQ(info.offset % 32, 0u);
    EXPECT_EQ(info.num_bytes, 4 * tensors[i].data.size());
    EXPECT_EQ(&file.get_tensor(info.name), &info);
    std::vector<float> out(info.num_elements(), 42.0f);
    file.read_f32(info, out);
    for (std::size_t k = 0; k < out.size(); ++k) {
      EXPECT_EQ(bits_of(out[k]), bits_of(tensors[i].data[k])) << info.name << "[" << k << "]";
    }
  }
  // dims are the shape reversed: dims[0] is the contiguous dimension.
  EXPECT_EQ(file.get_tensor("z.weight").dims, (std::vector<std::int64_t>{32, 6}));

  // A move keeps the mapping alive.
  mezo::GgufFile moved = std::move(file);
  std::vector<float> out(3);
  moved.read_f32(moved.get_tensor("a.bias"), out);
  EXPECT_EQ(out[2], 3.5f);
}

TEST(Gguf, WriteUsesTheGivenAlignmentForEveryOffsetAndTheDataSection) {
  TempDir dir;
  std::vector<std::pair<std::string, GgufValue>> metadata = {
      {"general.alignment", GgufValue::of_uint32(256)}};
  const std::vector<float> v(5, 1.0f);
  const std::vector<mezo::GgufTensorToWrite> tensors = {{"a", {5}, v, GgmlType::f32},
                                                        {"b", {5}, v, GgmlType::f32}};
  mezo::write_gguf(dir / "t.gguf", metadata, tensors);
  const auto file = mezo::GgufFile::open(dir / "t.gguf");
  EXPECT_EQ(file.alignment(), 256u);
  EXPECT_EQ(file.get_tensor("a").offset, 0u);
  EXPECT_EQ(file.get_tensor("b").offset, 256u);
  // Data section at a multiple of 256, each tensor padded like ggml does.
  EXPECT_EQ(fs::file_size(dir / "t.gguf") % 256, 0u);
  EXPECT_EQ(file.metadata().size(), 1u);  // exactly what was given
}

TEST(Gguf, F16IsWrittenRoundedToNearestEven) {
  TempDir dir;
  std::vector<float> v = mezo_test::random_f32(64, 2, 10.0f);
  // Ties between two halves: 1 + 2^-11 is halfway between 1 and 1 + 2^-10
  // (even: 1); 1 + 3 * 2^-11 is halfway to 1 + 2^-9 (even, above).
  v[0] = 1.0f + std::ldexp(1.0f, -11);
  v[1] = 1.0f + 3 * std::ldexp(1.0f, -11);
  v[2] = 65504.0f;
  v[3] = std::ldexp(1.0f, -25);  // the tie between 0 and the smallest subnormal: 0
  v[4] = std::ldexp(3.0f, -26);  // above that tie: the smallest subnormal
  const std::vector<mezo::GgufTensorToWrite> tensors = {{"h", {2, 32}, v, GgmlType::f16}};
  mezo::write_gguf(dir / "h.gguf", {}, tensors);
  const auto file = mezo::GgufFile::open(dir / "h.gguf");
  EXPECT_EQ(file.get_tensor("h").type, GgmlType::f16);
  EXPECT_EQ(file.get_tensor("h").num_bytes, 128u);
  std::vector<float> out(64);
  file.read_f32(file.get_tensor("h"), out);
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(bits_of(out[i]), bits_of(static_cast<float>(static_cast<_Float16>(v[i])))) << i;
  }
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 1.0f + std::ldexp(1.0f, -9));
  EXPECT_EQ(out[2], 65504.0f);
  EXPECT_EQ(out[3], 0.0f);
  EXPECT_EQ(out[4], std::ldexp(1.0f, -24));
}

TEST(Gguf, Q8_0IsWithinHalfAStepAsGgmlQuantizes) {
  TempDir dir;
  std::vector<float> v = mezo_test::random_f32(4 * 64, 3, 0.05f);
  for (std::size_t i = 64; i < 96; ++i) v[i] = 0.0f;  // an all-zero block: d = 0
  v[100] = 3.0f;                                      // one outlier block
  const std::vector<mezo::GgufTensorToWrite> tensors = {{"q", {4, 64}, v, GgmlType::q8_0}};
  mezo::write_gguf(dir / "q.gguf", {}, tensors);
  const auto file = mezo::GgufFile::open(dir / "q.gguf");
  const auto& info = file.get_tensor("q");
  EXPECT_EQ(info.type, GgmlType::q8_0);
  EXPECT_EQ(info.num_bytes, 8u * 34);
  std::vector<float> out(v.size());
  file.read_f32(info, out);
  for (std::size_t block = 0; block < v.size() / 32; ++block) {
    float amax = 0.0f;
    for (std::size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[block * 32 + j]));
    const float d = amax / 127.0f;
    const float d16 = mezo::detail::half_to_float(mezo::detail::float_to_half(d));
    // Half a step, plus what storing d as fp16 moves the largest level (127 d).
    const float tolerance = 0.5f * d16 + 127.0f * std::fabs(d - d16) + 1e-9f;
    for (std::size_t j = 0; j < 32; ++j) {
      const std::size_t i = block * 32 + j;
      EXPECT_LE(std::fabs(out[i] - v[i]), tolerance) << i;
      // The stored value is a whole multiple of the stored step.
      if (d16 != 0.0f) EXPECT_EQ(out[i], std::round(out[i] / d16) * d16) << i;
    }
  }
  for (std::size_t i = 64; i < 96; ++i) EXPECT_EQ(out[i], 0.0f);
  EXPECT_NEAR(out[100], 3.0f, 2e-3f);  // 127 d16: d's fp16 rounding, 2^-11 relative
}

TEST(Gguf, WriteRejectsBadArgumentsAndWritesNothing) {
  TempDir dir;
  const fs::path path = dir / "out.gguf";
  const std::vector<float> v(64, 1.0f);
  const auto code = mezo::ErrorCode::invalid_argument;
  const auto refuses = [&](std::vector<std::pair<std::string, GgufValue>> metadata,
                           std::vector<mezo::GgufTensorToWrite> tensors,
                           std::vector<std::string> parts) {
    const std::string msg = error_of([&] { mezo::write_gguf(path, metadata, tensors); }, code);
    EXPECT_CONTAINS(msg, "out.gguf");
    for (const auto& part : parts) EXPECT_CONTAINS(msg, part);
  };
  refuses({{"k", GgufValue::of_uint32(1)}, {"k", GgufValue::of_uint32(2)}}, {}, {"'k'", "twice"});
  refuses({{"general.alignment", GgufValue::of_uint32(48)}}, {}, {"general.alignment"});
  refuses({{"general.alignment", GgufValue::of_float32(32)}}, {}, {"general.alignment"});
  GgufValue too_big = GgufValue::of_uint32(0);
  too_big.type = GgufValueType::uint8;
  too_big.integer = 256;
  refuses({{"small", too_big}}, {}, {"'small'", "256", "UINT8"});
  GgufValue nested;
  nested.type = GgufValueType::array;
  nested.element_type = GgufValueType::array;
  refuses({{"nested", nested}}, {}, {"'nested'", "arrays"});
  GgufValue bad_bool = GgufValue::of_bool(true);
  bad_bool.integer = 2;
  refuses({{"flag", bad_bool}}, {}, {"'flag'"});
  refuses({}, {{"w", {2, 32}, v, GgmlType::f32}, {"w", {2, 32}, v, GgmlType::f32}},
          {"'w'", "twice"});
  refuses({}, {{"w", {3, 32}, v, GgmlType::f32}}, {"'w'", "[3, 32]", "96"});
  refuses({}, {{"w", {}, std::span<const float>(v).first(1), GgmlType::f32}}, {"'w'"});
  refuses({}, {{"w", {1, 1, 1, 1, 64}, v, GgmlType::f32}}, {"'w'", "5 dimensions"});
  refuses({}, {{"w", {0, 64}, {}, GgmlType::f32}}, {"'w'", "[0, 64]"});
  refuses({}, {{"w", {-1, 64}, v, GgmlType::f32}}, {"'w'"});
  refuses({}, {{"w", {4, 16}, v, GgmlType::q8_0}}, {"'w'", "Q8_0", "32"});
  refuses({}, {{"w", {64}, v, GgmlType::q4_k}}, {"'w'", "Q4_K"});
  std::vector<float> big = v;
  big[7] = 70000.0f;
  refuses({}, {{"w", {64}, big, GgmlType::f16}}, {"'w'", "element 7", "F16"});
  std::vector<float> nan = v;
  nan[9] = std::nanf("");
  refuses({}, {{"w", {64}, nan, GgmlType::q8_0}}, {"'w'", "element 9", "finite"});
  big[7] = 1e7f;  // d = amax / 127 overflows fp16
  refuses({}, {{"w", {64}, big, GgmlType::q8_0}}, {"'w'", "element 7"});
  EXPECT_FALSE(fs::exists(path));
  // Non-finite values are fine in F32 and F16.
  std::vector<float> inf = v;
  inf[0] = std::numeric_limits<float>::infinity();
  const std::vector<mezo::GgufTensorToWrite> ok = {{"w", {64}, inf, GgmlType::f16}};
  mezo::write_gguf(path, {}, ok);
  EXPECT_TRUE(fs::exists(path));
}

TEST(Gguf, WriteReplacesAnExistingFileAndLeavesNoTemporary) {
  TempDir dir;
  write_bytes(dir / "m.gguf", "old contents");
  const std::vector<float> v{1, 2, 3};
  const std::vector<mezo::GgufTensorToWrite> tensors = {{"v", {3}, v, GgmlType::f32}};
  mezo::write_gguf(dir / "m.gguf", {}, tensors);
  EXPECT_EQ(mezo::GgufFile::open(dir / "m.gguf").get_tensor("v").num_elements(), 3u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

// ---- Reading tensors -----------------------------------------------------------

TEST(Gguf, ReadF32RefusesForeignTensorsWrongSizesAndUndecodedTypes) {
  TempDir dir;
  GgufBytes g = sample();
  g.tensor("blk.0.ffn_down.weight", {256}, GgmlType::q5_k, std::string(176, '\0'));
  const auto file = mezo::GgufFile::open(write_bytes(dir / "m.gguf", g.bytes()));
  const auto code = mezo::ErrorCode::invalid_argument;
  std::vector<float> out(5);
  std::string msg =
      error_of([&] { file.read_f32(file.get_tensor("token_embd.weight"), out); }, code);
  EXPECT_CONTAINS(msg, "m.gguf");
  EXPECT_CONTAINS(msg, "'token_embd.weight'");
  EXPECT_CONTAINS(msg, "5");

  mezo::GgufTensorInfo forged = file.get_tensor("output_norm.weight");
  forged.dims = {1000};
  forged.num_bytes = 4000;
  std::vector<float> big(1000);
  msg = error_of([&] { file.read_f32(forged, big); }, code);
  EXPECT_CONTAINS(msg, "'output_norm.weight'");
  forged = file.get_tensor("output_norm.weight");
  forged.name = "absent";
  out.resize(2);
  error_of([&] { file.read_f32(forged, out); }, code);

  // Q5_K opens (ggml defines its blocks) but is not decoded.
  const auto& q5k = file.get_tensor("blk.0.ffn_down.weight");
  EXPECT_EQ(q5k.num_bytes, 176u);
  big.resize(256);
  msg = error_of([&] { file.read_f32(q5k, big); }, mezo::ErrorCode::unsupported);
  EXPECT_CONTAINS(msg, "'blk.0.ffn_down.weight'");
  EXPECT_CONTAINS(msg, "Q5_K");
}

TEST(Gguf, MissingTensorKeyAndFileAreNamed) {
  TempDir dir;
  const auto file = mezo::GgufFile::open(write_bytes(dir / "m.gguf", sample().bytes()));
  std::string msg =
      error_of([&] { (void)file.get_tensor("output.weight"); }, mezo::ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, "m.gguf");
  EXPECT_CONTAINS(msg, "'output.weight'");
  EXPECT_EQ(file.find_tensor("output.weight"), nullptr);
  msg = error_of([&] { (void)file.get_string("tokenizer.ggml.pre"); },
                 mezo::ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, "'tokenizer.ggml.pre'");
  msg = error_of([&] { mezo::GgufFile::open(dir / "absent.gguf"); }, mezo::ErrorCode::io);
  EXPECT_CONTAINS(msg, "absent.gguf");
  msg = error_of([&] { mezo::GgufFile::open(dir.path()); }, mezo::ErrorCode::invalid_argument);
  EXPECT_CONTAINS(msg, "not a regular file");
}

TEST(Gguf, Version2ReadsLikeVersion3) {
  TempDir dir;
  GgufBytes g = sample();
  g.version = 2;
  const auto file = mezo::GgufFile::open(write_bytes(dir / "v2.gguf", g.bytes()));
  EXPECT_EQ(file.version(), 2u);
  EXPECT_EQ(file.get_uint("llama.block_count"), 2u);
  std::vector<float> out(6);
  file.read_f32(file.get_tensor("token_embd.weight"), out);
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(file.get_tensor("token_embd.weight").shape(), (std::vector<std::int64_t>{3, 2}));
}

TEST(Gguf, FileWithoutTensorsNeedsNoPadding) {
  TempDir dir;
  GgufBytes g;
  g.entries.push_back(kv("general.name", GgufValueType::string, str("x")));  // ends unaligned
  const auto file = mezo::GgufFile::open(write_bytes(dir / "m.gguf", g.bytes()));
  EXPECT_EQ(file.get_string("general.name"), "x");
}

TEST(Gguf, TruncationAtEveryByteIsACleanError) {
  TempDir dir;
  // Metadata of many types and tensors of several block types, so the cut
  // lands in every kind of field.
  std::vector<std::pair<std::string, GgufValue>> metadata = every_value_type();
  metadata.emplace_back("general.alignment", GgufValue::of_uint32(16));
  const std::vector<float> v = mezo_test::random_f32(64, 4, 1.0f);
  const std::vector<mezo::GgufTensorToWrite> tensors = {{"a", {2, 32}, v, GgmlType::q8_0},
                                                        {"b", {64}, v, GgmlType::f16},
                                                        {"c", {3}, std::span(v).first(3)}};
  mezo::write_gguf(dir / "full.gguf", metadata, tensors);
  const std::string bytes = read_bytes(dir / "full.gguf");
  // The last tensor's data ends before the file's padding to 16; a file cut
  // within that padding is still whole.
  std::uint64_t needed = 0;
  {
    const auto file = mezo::GgufFile::open(dir / "full.gguf");
    const auto& c = file.get_tensor("c");
    const std::uint64_t data_start = bytes.size() - (c.offset + (c.num_bytes + 15) / 16 * 16);
    needed = data_start + c.offset + c.num_bytes;
    ASSERT_LT(needed, bytes.size());
  }
  const fs::path cut = dir / "cut.gguf";
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    write_bytes(cut, bytes.substr(0, n));
    if (n >= needed) {
      EXPECT_NO_THROW(mezo::GgufFile::open(cut)) << n;  // only padding is missing
      continue;
    }
    try {
      (void)mezo::GgufFile::open(cut);
      ADD_FAILURE() << "a file cut to " << n << " of " << bytes.size() << " bytes opened";
    } catch (const mezo::Error& e) {
      EXPECT_EQ(e.code(), mezo::ErrorCode::invalid_format) << n << ": " << e.what();
      EXPECT_CONTAINS(e.what(), "cut.gguf");
    }
  }
}

// ---- Broken files: each must be an error naming the file and what is wrong ------

struct BrokenCase {
  const char* label;
  std::string bytes;
  mezo::ErrorCode code;
  std::vector<std::string> expected;
};

std::vector<BrokenCase> broken_cases() {
  using C = mezo::ErrorCode;
  const auto F = C::invalid_format;
  std::vector<BrokenCase> cases;
  const std::string good = sample().bytes();
  const auto with_version = [&](std::uint32_t version) {
    std::string s = good;
    std::memcpy(s.data() + 4, &version, 4);
    return s;
  };
  const auto with_entries = [](std::vector<std::string> entries) {
    GgufBytes g;
    g.entries = std::move(entries);
    return g.bytes();
  };
  const auto with_infos = [](std::vector<std::string> infos, std::string data,
                             std::vector<std::string> entries = {}) {
    GgufBytes g;
    g.entries = std::move(entries);
    g.infos = std::move(infos);
    g.data = std::move(data);
    return g.bytes();
  };

  cases.push_back({"empty file", "", F, {"0 bytes", "24-byte"}});
  cases.push_back({"not GGUF", "GGML" + good.substr(4), F, {"not a GGUF file", "47 47 4d 4c"}});
  cases.push_back({"version 0", with_version(0), F, {"version 0"}});
  cases.push_back({"version 1", with_version(1), C::unsupported, {"version 1", "2 and 3"}});
  cases.push_back({"version 4", with_version(4), C::unsupported, {"version 4"}});
  cases.push_back({"byte-swapped",
                   with_version(0x03000000),
                   C::unsupported,
                   {"0x03000000", "big-endian", "version 3"}});
  {
    std::string s = good;
    const std::uint64_t lie = 1ull << 40;
    std::memcpy(s.data() + 16, &lie, 8);
    cases.push_back({"metadata count lies", s, F, {"1099511627776 metadata entries"}});
    s = good;
    std::memcpy(s.data() + 8, &lie, 8);
    cases.push_back({"tensor count lies", s, F, {"1099511627776 tensors"}});
  }
  cases.push_back({"key length past the end",
                   "GGUF" + u32(3) + u64(0) + u64(1) + u64(1000) + std::string(20, 'k'),
                   F,
                   {"metadata entry 0, the key", "1000 bytes"}});
  cases.push_back({"second key cut",
                   "GGUF" + u32(3) + u64(0) + u64(2) + kv("first", GgufValueType::uint8, "\x01") +
                       u64(50) + std::string(10, 'k'),
                   F,
                   {"metadata entry 1 (after key 'first')"}});
  cases.push_back({"string over 1 GiB",
                   with_entries({str("name") + u32(8) + u64((1ull << 30) + 1) + "x"}),
                   F,
                   {"'name'", "1 GiB"}});
  cases.push_back({"string past the end",
                   with_entries({str("general.name") + u32(8) + u64(100) + "short"}),
                   F,
                   {"'general.name'", "100-byte string"}});
  cases.push_back({"unknown value type",
                   with_entries({kv("k.odd", GgufValueType{13}, "")}),
                   F,
                   {"'k.odd'", "unknown value type 13"}});
  cases.push_back({"unknown element type",
                   with_entries({kv("k.arr", GgufValueType::array, u32(77) + u64(1) + "x")}),
                   F,
                   {"'k.arr'", "element type 77"}});
  cases.push_back({"array of arrays",
                   with_entries({kv("k.nested", GgufValueType::array,
                                    array(GgufValueType::array, 1, u32(4) + u64(0)))}),
                   F,
                   {"'k.nested'", "arrays"}});
  cases.push_back({"array over 2^30",
                   with_entries({kv("k.big", GgufValueType::array,
                                    array(GgufValueType::uint8, (1ull << 30) + 1, ""))}),
                   F,
                   {"'k.big'", "2^30"}});
  cases.push_back({"array past the end",
                   with_entries({kv("tokenizer.ggml.token_type", GgufValueType::array,
                                    array(GgufValueType::int32, 1000, u32(1)))}),
                   F,
                   {"'tokenizer.ggml.token_type'", "1000 INT32"}});
  cases.push_back(
      {"string array past the end",
       with_entries({kv("tokenizer.ggml.tokens", GgufValueType::array,
                        array(GgufValueType::string, 3, str("a") + str("b") + u64(9)))}),
       F,
       {"'tokenizer.ggml.tokens'", "element 2"}});
  cases.push_back({"bool of value 2",
                   with_entries({kv("k.flag", GgufValueType::boolean, "\x02")}),
                   F,
                   {"'k.flag'", "BOOL"}});
  cases.push_back({"bool element of value 7",
                   with_entries({kv("k.flags", GgufValueType::array,
                                    array(GgufValueType::boolean, 2, std::string("\x01\x07", 2)))}),
                   F,
                   {"'k.flags'", "element 1"}});
  cases.push_back({"scalar cut",
                   "GGUF" + u32(3) + u64(0) + u64(1) + str("k.u64") + u32(10) + "\x01\x02",
                   F,
                   {"'k.u64'", "UINT64"}});
  cases.push_back({"duplicate key",
                   with_entries({kv("general.name", GgufValueType::string, str("a")),
                                 kv("general.name", GgufValueType::string, str("b"))}),
                   F,
                   {"'general.name'", "twice"}});
  const auto alignment = [&](GgufValueType type, const std::string& value) {
    return with_infos({tensor_info("t", {1}, 0, 0)}, f32_bytes({1}),
                      {kv("general.alignment", type, value)});
  };
  cases.push_back({"alignment not UINT32",
                   alignment(GgufValueType::uint64, u64(32)),
                   F,
                   {"'general.alignment'", "UINT64", "UINT32"}});
  cases.push_back({"alignment not a power of two",
                   alignment(GgufValueType::uint32, u32(48)),
                   F,
                   {"'general.alignment'", "48", "power of two"}});
  cases.push_back({"alignment zero",
                   alignment(GgufValueType::uint32, u32(0)),
                   F,
                   {"'general.alignment'", "power of two"}});
  cases.push_back({"duplicate tensor",
                   with_infos({tensor_info("blk.0.attn_q.weight", {1}, 0, 0),
                               tensor_info("blk.0.attn_q.weight", {1}, 0, 32)},
                              std::string(36, '\0')),
                   F,
                   {"'blk.0.attn_q.weight'", "twice"}});
  cases.push_back({"no dimensions",
                   with_infos({tensor_info("t0", {}, 0, 0)}, f32_bytes({1})),
                   F,
                   {"'t0'", "0 dimensions"}});
  cases.push_back({"five dimensions",
                   with_infos({tensor_info("t5", {1, 1, 1, 1, 1}, 0, 0)}, f32_bytes({1})),
                   F,
                   {"'t5'", "5 dimensions"}});
  cases.push_back({"zero dimension",
                   with_infos({tensor_info("tz", {4, 0}, 0, 0)}, ""),
                   F,
                   {"'tz'", "dimension 1 is 0"}});
  cases.push_back({"dimension above INT64_MAX",
                   with_infos({tensor_info("th", {1ull << 63}, 0, 0)}, ""),
                   F,
                   {"'th'", "9223372036854775808"}});
  cases.push_back({"element count overflows",
                   with_infos({tensor_info("tov", {1ull << 32, 1ull << 32}, 0, 0)}, ""),
                   F,
                   {"'tov'", "2^63"}});
  cases.push_back({"byte count overflows",
                   with_infos({tensor_info("tb", {1ull << 62}, 0, 0)}, ""),
                   F,
                   {"'tb'", "overflow"}});
  cases.push_back(
      {"undefined ggml type", with_infos({tensor_info("tq", {32}, 99, 0)}, ""), F, {"'tq'", "99"}});
  cases.push_back({"ggml type not read",
                   with_infos({tensor_info("tiq", {256}, 23, 0)}, ""),
                   C::unsupported,
                   {"'tiq'", "23", "IQ4_XS"}});
  cases.push_back(
      {"row not a whole number of blocks",
       with_infos({tensor_info("blk.0.ffn_up.weight", {100, 2}, 12, 0)}, std::string(1000, '\0')),
       F,
       {"'blk.0.ffn_up.weight'", "Q4_K", "256", "[100, 2]"}});
  cases.push_back({"offset not aligned",
                   with_infos({tensor_info("tm", {1}, 0, 4)}, std::string(8, '\0')),
                   F,
                   {"'tm'", "offset 4", "alignment 32"}});
  cases.push_back(
      {"data past the end",
       with_infos({tensor_info("token_embd.weight", {8, 8}, 0, 0)}, std::string(100, '\0')),
       F,
       {"'token_embd.weight'", "256 bytes", "100 bytes"}});
  cases.push_back({"offset past the end",
                   with_infos({tensor_info("tp", {1}, 0, 1ull << 62)}, f32_bytes({1})),
                   F,
                   {"'tp'", "4611686018427387904"}});
  cases.push_back({"offset plus size overflows",
                   with_infos({tensor_info("tw", {8}, 0, 0xFFFFFFFFFFFFFFE0ull)}, f32_bytes({1})),
                   F,
                   {"'tw'"}});
  cases.push_back({"overlapping tensors",
                   with_infos({tensor_info("first", {16}, 0, 0), tensor_info("second", {8}, 0, 32)},
                              std::string(64, '\0')),
                   F,
                   {"'second'", "'first'", "overlap"}});
  cases.push_back({"overlap listed out of order",
                   with_infos({tensor_info("late", {8}, 0, 32), tensor_info("early", {16}, 0, 0)},
                              std::string(64, '\0')),
                   F,
                   {"'late'", "'early'", "overlap"}});
  {
    // The infos end where the data section should start but nothing follows.
    GgufBytes g;
    g.infos = {tensor_info("t", {1}, 0, 0)};
    std::string s = g.header_and_infos();
    s += std::string(1, '\0');  // less than the padding to 32
    cases.push_back({"data section past the end", s, F, {"data section", "truncated"}});
  }
  cases.push_back(
      {"tensor info cut",
       "GGUF" + u32(3) + u64(1) + u64(0) + str("blk.1.attn_k.weight") + u32(2) + u64(64),
       F,
       {"'blk.1.attn_k.weight'", "a dimension"}});
  return cases;
}

TEST(Gguf, BrokenFilesAreErrorsNamingTheFileAndTheFault) {
  TempDir dir;
  for (const auto& c : broken_cases()) {
    SCOPED_TRACE(c.label);
    const fs::path path = write_bytes(dir / "broken.gguf", c.bytes);
    const std::string msg = error_of([&] { mezo::GgufFile::open(path); }, c.code);
    EXPECT_CONTAINS(msg, "broken.gguf");
    for (const auto& part : c.expected) EXPECT_CONTAINS(msg, part);
  }
}

TEST(Gguf, SampleUsedByTheBrokenCasesIsValid) {
  TempDir dir;
  const auto file = mezo::GgufFile::open(write_bytes(dir / "ok.gguf", sample().bytes()));
  EXPECT_EQ(file.get_strings("tokenizer.ggml.tokens"), (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(file.tensors().size(), 2u);
}

// ---- Block decoders ------------------------------------------------------------

TEST(GgufDequantize, HalfToFloatIsExactForAll65536Patterns) {
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const float ours = mezo::detail::half_to_float(static_cast<std::uint16_t>(h));
    const float reference =
        static_cast<float>(std::bit_cast<_Float16>(static_cast<std::uint16_t>(h)));
    if (std::isnan(reference)) {
      ASSERT_TRUE(std::isnan(ours)) << std::hex << h;
      ASSERT_EQ(std::signbit(ours), std::signbit(reference)) << std::hex << h;
    } else {
      ASSERT_EQ(bits_of(ours), bits_of(reference)) << std::hex << h;
    }
  }
}

TEST(GgufDequantize, FloatToHalfRoundsToNearestEvenLikeTheCompiler) {
  std::vector<float> values = {0.0f,
                               -0.0f,
                               1.0f,
                               65504.0f,
                               65519.99f,
                               65520.0f,
                               1e9f,
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::denorm_min(),
                               std::ldexp(1.0f, -25),
                               std::ldexp(1.0f, -24),
                               std::ldexp(1.5f, -25),
                               std::ldexp(1.0f, -14),
                               std::ldexp(1023.5f, -24),
                               std::ldexp(2047.0f, -25)};
  // Every float whose low 13 bits are a tie or next to one, over all exponents.
  for (std::uint32_t e = 0; e < 255; ++e) {
    for (std::uint32_t low : {0x0fffu, 0x1000u, 0x1001u, 0x3000u, 0x0001u, 0x1fffu}) {
      for (std::uint32_t mantissa_top : {0u, 1u, 0x3ffu, 0x155u}) {
        const std::uint32_t bits = (e << 23) | (mantissa_top << 13) | low;
        values.push_back(std::bit_cast<float>(bits));
        values.push_back(-std::bit_cast<float>(bits));
      }
    }
  }
  std::mt19937 gen(7);
  for (int i = 0; i < 200000; ++i) {
    const float x = std::bit_cast<float>(static_cast<std::uint32_t>(gen()));
    if (!std::isnan(x)) values.push_back(x);
  }
  for (float x : values) {
    const std::uint16_t reference = std::bit_cast<std::uint16_t>(static_cast<_Float16>(x));
    ASSERT_EQ(mezo::detail::float_to_half(x), reference) << x << " bits " << std::hex << bits_of(x);
  }
  const std::uint16_t nan = mezo::detail::float_to_half(std::nanf(""));
  EXPECT_TRUE(std::isnan(mezo::detail::half_to_float(nan)));
}

TEST(GgufDequantize, BlockLayoutsAreGgmls) {
  struct Row {
    GgmlType type;
    std::uint32_t size, bytes;
  };
  // ggml-common.h: sizeof(block_*) and QK*.
  for (const Row& r :
       {Row{GgmlType::f32, 1, 4}, Row{GgmlType::f16, 1, 2}, Row{GgmlType::bf16, 1, 2},
        Row{GgmlType::q4_0, 32, 18}, Row{GgmlType::q4_1, 32, 20}, Row{GgmlType::q5_0, 32, 22},
        Row{GgmlType::q5_1, 32, 24}, Row{GgmlType::q8_0, 32, 34}, Row{GgmlType::q8_1, 32, 36},
        Row{GgmlType::q2_k, 256, 84}, Row{GgmlType::q3_k, 256, 110}, Row{GgmlType::q4_k, 256, 144},
        Row{GgmlType::q5_k, 256, 176}, Row{GgmlType::q6_k, 256, 210}}) {
    mezo::detail::GgmlBlockLayout layout;
    ASSERT_TRUE(mezo::detail::ggml_block_layout(static_cast<std::uint32_t>(r.type), layout))
        << mezo::to_string(r.type);
    EXPECT_EQ(layout.block_size, r.size) << mezo::to_string(r.type);
    EXPECT_EQ(layout.block_bytes, r.bytes) << mezo::to_string(r.type);
  }
  mezo::detail::GgmlBlockLayout layout;
  EXPECT_FALSE(mezo::detail::ggml_block_layout(4, layout));   // Q4_2, removed from ggml
  EXPECT_FALSE(mezo::detail::ggml_block_layout(23, layout));  // IQ4_XS: not read
  EXPECT_EQ(mezo::to_string(GgmlType{23}), "IQ4_XS");
  EXPECT_EQ(mezo::to_string(GgmlType{4}), "type 4");
}

TEST(GgufDequantize, EveryBlockTypeMatchesGgufPyBitForBit) {
  // Written by gguf-py's GGUFWriter: reading it at all also checks the
  // container against another writer.
  const auto file = mezo::GgufFile::open(kFixtures / "gguf_quants" / "quants.gguf");
  EXPECT_EQ(file.get_string("general.architecture"), "test");
  EXPECT_EQ(file.get_uint("test.uint8"), 200u);
  EXPECT_EQ(file.find("test.int8")->integer, -100);
  EXPECT_EQ(file.get_uint("test.uint16"), 60000u);
  EXPECT_EQ(file.find("test.int16")->integer, -30000);
  EXPECT_EQ(file.get_uint("test.uint32"), 4000000000u);
  EXPECT_EQ(file.find("test.int32")->integer, -2000000000);
  EXPECT_EQ(file.get_float("test.float32"), static_cast<double>(0.1f));
  EXPECT_TRUE(file.get_bool("test.bool"));
  EXPECT_EQ(file.get_string("test.string"), "ünïcode ✓");
  EXPECT_EQ(file.get_uint("test.uint64"), 18000000000000000000ull);
  EXPECT_EQ(file.find("test.int64")->integer, -9000000000000000000);
  EXPECT_EQ(file.get_float("test.float64"), 0.1);
  EXPECT_EQ(file.get_strings("test.strings"), (std::vector<std::string>{"a", "", "three"}));
  EXPECT_EQ(file.get_integers("test.int32s"), (std::vector<std::int64_t>{1, -2, 3}));
  EXPECT_EQ(file.get_floats("test.float32s"), (std::vector<double>{0.5, -1.25}));

  const std::pair<const char*, GgmlType> types[] = {
      {"F32", GgmlType::f32},   {"F16", GgmlType::f16},   {"BF16", GgmlType::bf16},
      {"Q4_0", GgmlType::q4_0}, {"Q4_1", GgmlType::q4_1}, {"Q5_0", GgmlType::q5_0},
      {"Q5_1", GgmlType::q5_1}, {"Q8_0", GgmlType::q8_0}, {"Q4_K", GgmlType::q4_k},
      {"Q6_K", GgmlType::q6_k}};
  for (const auto& [name, type] : types) {
    SCOPED_TRACE(name);
    const auto& tensor = file.get_tensor(name);
    const auto& expected = file.get_tensor(std::string(name) + ".expected");
    EXPECT_EQ(tensor.type, type);
    EXPECT_EQ(tensor.dims, expected.dims);
    EXPECT_EQ(tensor.dims.size(), 2u);
    std::vector<float> got(tensor.num_elements()), want(expected.num_elements());
    file.read_f32(tensor, got);
    file.read_f32(expected, want);
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(bits_of(got[i]), bits_of(want[i]))
          << name << "[" << i << "]: " << got[i] << " vs " << want[i];
    }
  }
}

TEST(GgufDequantize, Q4_1BlockOfSmolLM2AttnQ) {
  // The first block of blk.0.attn_q.weight in SmolLM2-135M-Instruct.Q4_1.gguf
  // (docs: ../shared/guide/DECODERS.md): d = 0x300F, m = 0xB9D8, qs[0] = 0x45.
  unsigned char block[20] = {};
  block[0] = 0x0F, block[1] = 0x30;  // d
  block[2] = 0xD8, block[3] = 0xB9;  // m
  block[4] = 0x45;                   // element 0: 5, element 16: 4
  float y[32];
  mezo::detail::dequantize_block(GgmlType::q4_1, block, y);
  EXPECT_NEAR(y[0], -0.09631f, 5e-6f);
  EXPECT_NEAR(y[16], -0.22314f, 5e-6f);
  // Both are nibble * d + m with d and m the fp16 values.
  const float d = mezo::detail::half_to_float(0x300F), m = mezo::detail::half_to_float(0xB9D8);
  EXPECT_EQ(y[0], 5.0f * d + m);
  EXPECT_EQ(y[16], 4.0f * d + m);
  EXPECT_EQ(y[1], m);  // qs[1] = 0
}

TEST(GgufDequantize, LargeQ4KTensorEqualsASerialBlockByBlockDecode) {
  // 4096 x 256 = 1,048,576 elements: large enough for read_f32 to split the
  // blocks over threads.
  constexpr std::uint64_t rows = 4096, cols = 256, block_bytes = 144;
  std::mt19937 gen(11);
  std::string blocks(rows * block_bytes, '\0');
  for (auto& c : blocks) c = static_cast<char>(gen() & 0xff);
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  for (std::uint64_t b = 0; b < rows; ++b) {  // finite fp16 d and dmin
    const std::uint16_t d = mezo::detail::float_to_half(scale(gen));
    const std::uint16_t dmin = mezo::detail::float_to_half(scale(gen));
    std::memcpy(blocks.data() + b * block_bytes, &d, 2);
    std::memcpy(blocks.data() + b * block_bytes + 2, &dmin, 2);
  }
  TempDir dir;
  GgufBytes g;
  g.tensor("blk.0.ffn_gate.weight", {cols, rows}, GgmlType::q4_k, blocks);
  const auto file = mezo::GgufFile::open(write_bytes(dir / "big.gguf", g.bytes()));
  const auto& info = file.get_tensor("blk.0.ffn_gate.weight");
  ASSERT_GE(info.num_elements(), 1u << 20);
  std::vector<float> parallel(info.num_elements());
  file.read_f32(info, parallel);
  std::vector<float> serial(info.num_elements());
  for (std::uint64_t b = 0; b < rows; ++b) {
    mezo::detail::dequantize_block(
        GgmlType::q4_k, reinterpret_cast<const unsigned char*>(blocks.data()) + b * block_bytes,
        serial.data() + b * cols);
  }
  for (std::size_t i = 0; i < serial.size(); ++i) {
    ASSERT_EQ(bits_of(parallel[i]), bits_of(serial[i])) << i;
  }
}

}  // namespace
