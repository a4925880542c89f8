// safetensors: round trip through write_safetensors and open, F16/BF16
// decoding against known bit patterns, and every kind of broken file reported
// as a mezo::Error naming the file and the tensor.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>
#include <mezo/error.hpp>
#include <mezo/io/safetensors.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using mezo_test::error_of;
using mezo_test::TempDir;

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string u64_le(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// A file made by hand: length, header text, data bytes.
std::string safetensors_bytes(const std::string& header, const std::string& data) {
  return u64_le(header.size()) + header + data;
}

std::string u16_bytes(std::initializer_list<std::uint16_t> values) {
  std::string s;
  for (std::uint16_t v : values) {
    s.push_back(static_cast<char>(v & 0xff));
    s.push_back(static_cast<char>(v >> 8));
  }
  return s;
}

bool same_bits(float a, float b) {
  return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

TEST(Safetensors, RoundTripKeepsOrderShapesDataAndMetadata) {
  TempDir dir;
  const fs::path path = dir / "model.safetensors";
  std::vector<float> w(6 * 4), b(4), scalar{-3.25f};
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.1f * static_cast<float>(i) - 1.0f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = std::ldexp(1.0f, -static_cast<int>(i) - 130);
  w[5] = std::numeric_limits<float>::infinity();
  w[6] = -0.0f;
  const std::vector<mezo::TensorF32View> tensors = {
      {"z.encoder.weight", {6, 4}, w},  // not in sorted order: the order must be kept
      {"a.empty", {0, 5}, {}},
      {"m.bias", {4}, b},
      {"scalar", {}, scalar},
  };
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "ünïcode"}};
  mezo::write_safetensors(path, tensors, metadata);

  // The header is padded so the data section is 8-byte aligned.
  const std::string raw = read_bytes(path);
  ASSERT_GE(raw.size(), 8u);
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, raw.data(), 8);
  EXPECT_EQ(header_size % 8, 0u);
  EXPECT_EQ(raw.size(), 8 + header_size + (w.size() + b.size() + 1) * 4);

  auto file = mezo::SafetensorsFile::open(path);
  EXPECT_EQ(file.path(), path);
  EXPECT_EQ(file.metadata(), metadata);
  ASSERT_EQ(file.tensors().size(), 4u);
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const mezo::TensorInfo& info = file.tensors()[i];
    EXPECT_EQ(info.name, tensors[i].name);
    EXPECT_EQ(info.dtype, mezo::TensorDType::f32);
    EXPECT_EQ(info.shape, tensors[i].shape);
    EXPECT_EQ(info.num_elements(), tensors[i].data.size());
    EXPECT_EQ(info.begin, offset);  // contiguous
    EXPECT_EQ(info.end, offset + 4 * tensors[i].data.size());
    offset = info.end;
    EXPECT_EQ(file.find(tensors[i].name), &info);
    EXPECT_EQ(&file.get(tensors[i].name), &info);

    std::vector<float> out(info.num_elements(), 42.0f);
    file.read_f32(info, out);
    ASSERT_EQ(out.size(), tensors[i].data.size());
    for (std::size_t k = 0; k < out.size(); ++k) {
      EXPECT_TRUE(same_bits(out[k], tensors[i].data[k])) << info.name << "[" << k << "]";
    }
  }
  EXPECT_EQ(file.find("missing"), nullptr);

  // A move keeps the mapping alive.
  mezo::SafetensorsFile moved = std::move(file);
  std::vector<float> out(4);
  moved.read_f32(moved.get("m.bias"), out);
  EXPECT_TRUE(same_bits(out[3], b[3]));
}

TEST(Safetensors, EmptyFileWithoutTensorsOrMetadata) {
  TempDir dir;
  const fs::path path = dir / "empty.safetensors";
  mezo::write_safetensors(path, {});
  const auto file = mezo::SafetensorsFile::open(path);
  EXPECT_TRUE(file.tensors().empty());
  EXPECT_TRUE(file.metadata().empty());
}

TEST(Safetensors, WriteReplacesAnExistingFileAndLeavesNoTemporary) {
  TempDir dir;
  const fs::path path = dir / "model.safetensors";
  write_bytes(path, "old contents");
  const std::vector<float> v{1, 2, 3};
  const std::vector<mezo::TensorF32View> tensors = {{"v", {3}, v}};
  mezo::write_safetensors(path, tensors);
  EXPECT_EQ(mezo::SafetensorsFile::open(path).get("v").num_elements(), 3u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(Safetensors, WriteRejectsBadTensorsAndWritesNothing) {
  TempDir dir;
  const fs::path path = dir / "out.safetensors";
  const std::vector<float> v(6);
  {
    const std::vector<mezo::TensorF32View> tensors = {{"w", {2, 4}, v}};
    const std::string msg = error_of([&] { mezo::write_safetensors(path, tensors); },
                                     mezo::ErrorCode::invalid_argument);
    EXPECT_CONTAINS(msg, "out.safetensors");
    EXPECT_CONTAINS(msg, "'w'");
    EXPECT_CONTAINS(msg, "[2, 4]");
    EXPECT_CONTAINS(msg, "8");
  }
  {
    const std::vector<mezo::TensorF32View> tensors = {{"w", {6}, v}, {"w", {6}, v}};
    const std::string msg = error_of([&] { mezo::write_safetensors(path, tensors); },
                                     mezo::ErrorCode::invalid_argument);
    EXPECT_CONTAINS(msg, "'w'");
    EXPECT_CONTAINS(msg, "twice");
  }
  {
    const std::vector<mezo::TensorF32View> tensors = {{"w", {-1, 6}, v}};
    error_of([&] { mezo::write_safetensors(path, tensors); }, mezo::ErrorCode::invalid_argument);
  }
  {
    const std::vector<mezo::TensorF32View> tensors = {{"__metadata__", {6}, v}};
    error_of([&] { mezo::write_safetensors(path, tensors); }, mezo::ErrorCode::invalid_argument);
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(Safetensors, DecodesF16BitPatterns) {
  TempDir dir;
  const fs::path path = dir / "half.safetensors";
  const std::vector<std::uint16_t> bits = {
      0x3C00,  // 1.0
      0xC100,  // -2.5
      0x7BFF,  // 65504, the largest finite half
      0x0001,  // 2^-24, the smallest subnormal
      0x03FF,  // the largest subnormal
      0x0400,  // 2^-14, the smallest normal
      0x8000,  // -0
      0x7C00,  // inf
      0xFC00,  // -inf
      0x7E00,  // nan
      0x3555,  // 0.333251953125
  };
  std::string data;
  for (auto b : bits) data += u16_bytes({b});
  write_bytes(
      path, safetensors_bytes(R"({"h":{"dtype":"F16","shape":[11],"data_offsets":[0,22]}})", data));
  const auto file = mezo::SafetensorsFile::open(path);
  ASSERT_EQ(file.get("h").dtype, mezo::TensorDType::f16);
  std::vector<float> out(11);
  file.read_f32(file.get("h"), out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.5f);
  EXPECT_EQ(out[2], 65504.0f);
  EXPECT_EQ(out[3], std::ldexp(1.0f, -24));
  EXPECT_EQ(out[4], std::ldexp(1023.0f, -24));
  EXPECT_EQ(out[5], std::ldexp(1.0f, -14));
  EXPECT_TRUE(same_bits(out[6], -0.0f));
  EXPECT_EQ(out[7], std::numeric_limits<float>::infinity());
  EXPECT_EQ(out[8], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(out[9]));
  EXPECT_EQ(out[10], 0.333251953125f);
}

TEST(Safetensors, DecodesBF16BitPatterns) {
  TempDir dir;
  const fs::path path = dir / "bf16.safetensors";
  const std::string data = u16_bytes({
      0x3F80,  // 1.0
      0xC020,  // -2.5
      0x477F,  // 65280 (65504 is not a bf16)
      0x7F7F,  // the largest finite bf16
      0x0001,  // 2^-133, the smallest subnormal
      0x7F80,  // inf
      0xFF80,  // -inf
      0x7FC0,  // nan
  });
  write_bytes(path, safetensors_bytes(
                        R"({"b":{"dtype":"BF16","shape":[2,4],"data_offsets":[0,16]}})", data));
  const auto file = mezo::SafetensorsFile::open(path);
  std::vector<float> out(8);
  file.read_f32(file.get("b"), out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.5f);
  EXPECT_EQ(out[2], 65280.0f);
  EXPECT_EQ(out[3], std::bit_cast<float>(0x7F7F0000u));
  EXPECT_EQ(out[4], std::ldexp(1.0f, -133));
  EXPECT_EQ(out[5], std::numeric_limits<float>::infinity());
  EXPECT_EQ(out[6], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(out[7]));
}

TEST(Safetensors, ReadsOtherDtypesOnlyAsMetadataAndRejectsWrongOutputSize) {
  TempDir dir;
  const fs::path path = dir / "ids.safetensors";
  write_bytes(
      path, safetensors_bytes(
                R"({"__metadata__":{"format":"pt"},)"
                R"("embeddings.position_ids":{"dtype":"I64","shape":[1,2],"data_offsets":[0,16]},)"
                R"("w":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}})",
                std::string(24, '\0')));
  const auto file = mezo::SafetensorsFile::open(path);
  const auto& ids = file.get("embeddings.position_ids");
  EXPECT_EQ(ids.dtype, mezo::TensorDType::i64);
  EXPECT_EQ(ids.num_elements(), 2u);
  std::vector<float> out(2);
  std::string msg = error_of([&] { file.read_f32(ids, out); }, mezo::ErrorCode::invalid_argument);
  EXPECT_CONTAINS(msg, "ids.safetensors");
  EXPECT_CONTAINS(msg, "'embeddings.position_ids'");
  EXPECT_CONTAINS(msg, "I64");

  std::vector<float> wrong(3);
  msg = error_of([&] { file.read_f32(file.get("w"), wrong); }, mezo::ErrorCode::invalid_argument);
  EXPECT_CONTAINS(msg, "'w'");
  EXPECT_CONTAINS(msg, "3");

  // A hand-made TensorInfo pointing past the data is refused, not read.
  mezo::TensorInfo forged = file.get("w");
  forged.shape = {1000};
  forged.end = forged.begin + 4000;
  std::vector<float> big(1000);
  error_of([&] { file.read_f32(forged, big); }, mezo::ErrorCode::invalid_argument);
}

TEST(Safetensors, MissingTensorNamesFileAndTensor) {
  TempDir dir;
  const fs::path path = dir / "model.safetensors";
  const std::vector<float> v{1};
  const std::vector<mezo::TensorF32View> tensors = {{"present", {1}, v}};
  mezo::write_safetensors(path, tensors);
  const auto file = mezo::SafetensorsFile::open(path);
  const std::string msg = error_of([&] { (void)file.get("roberta.pooler.dense.weight"); },
                                   mezo::ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, "model.safetensors");
  EXPECT_CONTAINS(msg, "'roberta.pooler.dense.weight'");
}

TEST(Safetensors, MissingFileIsAnIoError) {
  TempDir dir;
  const std::string msg = error_of([&] { mezo::SafetensorsFile::open(dir / "absent.safetensors"); },
                                   mezo::ErrorCode::io);
  EXPECT_CONTAINS(msg, "absent.safetensors");
}

// A broken file and the parts its error message must contain.
struct BrokenCase {
  const char* label;
  std::string bytes;
  std::vector<std::string> expected;
};

std::string entry(const std::string& name, const std::string& body) {
  return "\"" + name + "\":{" + body + "}";
}

std::vector<BrokenCase> broken_cases() {
  const std::string w = "roberta.embeddings.word_embeddings.weight";
  std::vector<BrokenCase> cases;
  cases.push_back({"empty file", "", {"0 bytes", "8-byte"}});
  cases.push_back({"truncated length", std::string("\x10\x00\x00", 3), {"3 bytes"}});
  cases.push_back({"header length past the end",
                   u64_le(1000) + R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                   {"header length 1000", "end of the file"}});
  cases.push_back({"absurd header length", u64_le(std::uint64_t(1) << 40) + "{}", {"limit"}});
  cases.push_back(
      {"invalid JSON", safetensors_bytes(R"({"a": {"dtype": "F32",)", ""), {"not valid JSON"}});
  cases.push_back({"number out of range",
                   safetensors_bytes(R"({"a": 1e400})", ""),
                   {"not valid JSON", "1e400"}});
  cases.push_back({"header not an object", safetensors_bytes("[1, 2]", ""), {"JSON object"}});
  cases.push_back({"entry not an object", safetensors_bytes(R"({"a": [1, 2]})", ""), {"'a'"}});
  cases.push_back(
      {"offsets past the data",
       safetensors_bytes("{" + entry(w, R"("dtype":"F32","shape":[4],"data_offsets":[0,16])") + "}",
                         std::string(12, '\0')),
       {"'" + w + "'", "[0, 16]", "12 bytes"}});
  cases.push_back(
      {"overlapping offsets",
       safetensors_bytes(
           "{" + entry("first", R"("dtype":"F32","shape":[4],"data_offsets":[0,16])") + "," +
               entry("second", R"("dtype":"F32","shape":[2],"data_offsets":[8,16])") + "}",
           std::string(16, '\0')),
       {"'second'", "'first'", "overlap"}});
  cases.push_back(
      {"overlap listed out of order",
       safetensors_bytes(
           "{" + entry("late", R"("dtype":"F32","shape":[2],"data_offsets":[12,20])") + "," +
               entry("early", R"("dtype":"F32","shape":[4],"data_offsets":[0,16])") + "}",
           std::string(20, '\0')),
       {"'late'", "'early'", "overlap"}});
  cases.push_back(
      {"size does not match shape",
       safetensors_bytes(
           "{" + entry(w, R"("dtype":"F32","shape":[50265,768],"data_offsets":[0,100])") + "}",
           std::string(100, '\0')),
       {"'" + w + "'",
        "data_offsets [0, 100] hold 100 bytes but shape [50265, 768] of F32 needs 154414080"}});
  cases.push_back({"F16 size counted as F32",
                   safetensors_bytes(
                       "{" + entry("h", R"("dtype":"F16","shape":[4],"data_offsets":[0,16])") + "}",
                       std::string(16, '\0')),
                   {"'h'", "F16", "needs 8"}});
  cases.push_back(
      {"unknown dtype",
       safetensors_bytes(
           "{" + entry("q", R"("dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4])") + "}",
           std::string(4, '\0')),
       {"'q'", "F8_E4M3", "dtype"}});
  cases.push_back(
      {"dtype not a string",
       safetensors_bytes("{" + entry("q", R"("dtype":4,"shape":[4],"data_offsets":[0,16])") + "}",
                         std::string(16, '\0')),
       {"'q'", "dtype"}});
  cases.push_back({"missing dtype",
                   safetensors_bytes("{" + entry("q", R"("shape":[4],"data_offsets":[0,16])") + "}",
                                     std::string(16, '\0')),
                   {"'q'", "dtype"}});
  cases.push_back(
      {"negative dimension",
       safetensors_bytes(
           "{" + entry("n", R"("dtype":"F32","shape":[-4],"data_offsets":[0,16])") + "}",
           std::string(16, '\0')),
       {"'n'", "shape"}});
  cases.push_back(
      {"fractional dimension",
       safetensors_bytes(
           "{" + entry("n", R"("dtype":"F32","shape":[4.5],"data_offsets":[0,16])") + "}",
           std::string(16, '\0')),
       {"'n'", "shape"}});
  cases.push_back(
      {"missing shape",
       safetensors_bytes("{" + entry("n", R"("dtype":"F32","data_offsets":[0,16])") + "}",
                         std::string(16, '\0')),
       {"'n'", "shape"}});
  cases.push_back(
      {"shape product overflows",
       safetensors_bytes(
           "{" +
               entry("big",
                     R"("dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,0])") +
               "}",
           ""),
       {"'big'", "overflow"}});
  cases.push_back({"begin after end",
                   safetensors_bytes(
                       "{" + entry("r", R"("dtype":"F32","shape":[1],"data_offsets":[8,4])") + "}",
                       std::string(8, '\0')),
                   {"'r'", "[8, 4]"}});
  cases.push_back(
      {"three offsets",
       safetensors_bytes(
           "{" + entry("r", R"("dtype":"F32","shape":[1],"data_offsets":[0,4,8])") + "}",
           std::string(8, '\0')),
       {"'r'", "data_offsets"}});
  cases.push_back({"negative offset",
                   safetensors_bytes(
                       "{" + entry("r", R"("dtype":"F32","shape":[1],"data_offsets":[-4,0])") + "}",
                       std::string(8, '\0')),
                   {"'r'", "data_offsets"}});
  cases.push_back({"missing offsets",
                   safetensors_bytes("{" + entry("r", R"("dtype":"F32","shape":[1])") + "}",
                                     std::string(8, '\0')),
                   {"'r'", "data_offsets"}});
  cases.push_back({"metadata not an object",
                   safetensors_bytes(R"({"__metadata__": ["pt"]})", ""),
                   {"__metadata__"}});
  cases.push_back({"metadata value not a string",
                   safetensors_bytes(R"({"__metadata__": {"format": "pt", "step": 3}})", ""),
                   {"__metadata__", "'step'"}});
  cases.push_back({"duplicate tensor",
                   safetensors_bytes(
                       "{" + entry("d", R"("dtype":"F32","shape":[1],"data_offsets":[0,4])") + "," +
                           entry("d", R"("dtype":"F32","shape":[1],"data_offsets":[4,8])") + "}",
                       std::string(8, '\0')),
                   {"'d'", "twice"}});
  return cases;
}

TEST(Safetensors, BrokenFilesAreErrorsNamingFileAndTensor) {
  TempDir dir;
  for (const BrokenCase& c : broken_cases()) {
    SCOPED_TRACE(c.label);
    const fs::path path = dir / "broken.safetensors";
    write_bytes(path, c.bytes);
    const std::string msg =
        error_of([&] { mezo::SafetensorsFile::open(path); }, mezo::ErrorCode::invalid_format);
    EXPECT_CONTAINS(msg, "broken.safetensors");
    for (const std::string& part : c.expected) EXPECT_CONTAINS(msg, part);
  }
}

TEST(Safetensors, TruncatedDataSectionIsCaught) {
  TempDir dir;
  const fs::path path = dir / "cut.safetensors";
  const std::vector<float> a(16, 1.0f), b(16, 2.0f);
  const std::vector<mezo::TensorF32View> tensors = {{"layer.0.weight", {4, 4}, a},
                                                    {"layer.1.weight", {4, 4}, b}};
  mezo::write_safetensors(path, tensors);
  fs::resize_file(path, fs::file_size(path) - 1);
  const std::string msg =
      error_of([&] { mezo::SafetensorsFile::open(path); }, mezo::ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, "cut.safetensors");
  EXPECT_CONTAINS(msg, "'layer.1.weight'");
  EXPECT_CONTAINS(msg, "[64, 128]");
}

TEST(Safetensors, ZeroByteTensorsMayShareAnOffset) {
  TempDir dir;
  const fs::path path = dir / "zeros.safetensors";
  write_bytes(path,
              safetensors_bytes(
                  "{" + entry("a", R"("dtype":"F32","shape":[2],"data_offsets":[0,8])") + "," +
                      entry("e1", R"("dtype":"F32","shape":[0],"data_offsets":[4,4])") + "," +
                      entry("e2", R"("dtype":"BF16","shape":[3,0],"data_offsets":[8,8])") + "}",
                  std::string(8, '\0')));
  const auto file = mezo::SafetensorsFile::open(path);
  ASSERT_EQ(file.tensors().size(), 3u);
  EXPECT_EQ(file.tensors()[1].name, "e1");
  std::vector<float> none;
  file.read_f32(file.get("e1"), none);
  file.read_f32(file.get("e2"), none);
  EXPECT_EQ(file.get("e2").num_elements(), 0u);
}

TEST(Safetensors, DtypeNamesAndSizes) {
  using D = mezo::TensorDType;
  const std::pair<D, std::pair<const char*, std::size_t>> expected[] = {
      {D::f64, {"F64", 8}}, {D::f32, {"F32", 4}},     {D::f16, {"F16", 2}}, {D::bf16, {"BF16", 2}},
      {D::i64, {"I64", 8}}, {D::i32, {"I32", 4}},     {D::i16, {"I16", 2}}, {D::i8, {"I8", 1}},
      {D::u8, {"U8", 1}},   {D::boolean, {"BOOL", 1}}};
  for (const auto& [dtype, spec] : expected) {
    EXPECT_STREQ(mezo::to_string(dtype), spec.first);
    EXPECT_EQ(mezo::size_of(dtype), spec.second);
  }
}

}  // namespace
