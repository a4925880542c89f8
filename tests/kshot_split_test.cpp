// k-shot splits: NumPy's legacy MT19937 draws and shuffle reproduced bit for
// bit (reference values printed once by NumPy 2.4.6, commands in the
// comments), the SST-2 16-42 split byte-identical to the shared reference
// files, and every bad input reported as a mezo::Error naming file and line.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mezo/data/labeled_text.hpp>
#include <mezo/error.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "test_support.hpp"

// The private generator behind make_kshot_split (header-only).
#include "data/numpy_mt19937.hpp"  // private header, tested directly

namespace fs = std::filesystem;

namespace {

using mezo_test::error_of;
using mezo_test::TempDir;
using mezo_test::write_bytes;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

#define EXPECT_HAS(message, part)                    \
  EXPECT_NE((message).find(part), std::string::npos) \
      << "'" << (message) << "' lacks '" << (part) << "'"

const std::string kHeader = "sentence\tlabel\n";

// A TSV of n lines "s<i>\t<label_of(i)>".
std::string numbered_tsv(int n, const std::function<int(int)>& label_of) {
  std::string out = kHeader;
  for (int i = 0; i < n; ++i)
    out += "s" + std::to_string(i) + "\t" + std::to_string(label_of(i)) + "\n";
  return out;
}

std::vector<std::string> numbered_lines(const std::vector<int>& indices,
                                        const std::function<int(int)>& label_of) {
  std::vector<std::string> out;
  for (int i : indices) out.push_back("s" + std::to_string(i) + "\t" + std::to_string(label_of(i)));
  return out;
}

}  // namespace

// python -c "import numpy as np; print(np.random.RandomState(42)
//     .randint(0, 2**32, size=8, dtype=np.uint64).tolist())"
// (the same as np.random.RandomState(42)._bit_generator.random_raw(8)).
TEST(KShotNumpyRandom, Mt19937OutputsMatchNumpy) {
  const std::uint32_t expected[] = {1608637542u, 3421126067u, 4083286876u, 787846414u,
                                    3143890026u, 3348747335u, 2571218620u, 2563451924u};
  mezo::detail::NumpyLegacyRandom rng(42);
  for (std::uint32_t want : expected) EXPECT_EQ(rng.next_uint32(), want);
  // python -c "import numpy as np; print(np.random.RandomState(0)
  //     .randint(0, 2**32, size=4, dtype=np.uint64).tolist())"
  const std::uint32_t expected0[] = {2357136044u, 2546248239u, 3071714933u, 3626093760u};
  mezo::detail::NumpyLegacyRandom rng0(0);
  for (std::uint32_t want : expected0) EXPECT_EQ(rng0.next_uint32(), want);
}

// python -c "import numpy as np; print(np.random.RandomState(42)
//     .randint(0, 2**64, size=2, dtype=np.uint64).tolist())"
TEST(KShotNumpyRandom, Next64IsHighThenLowDraw) {
  mezo::detail::NumpyLegacyRandom rng(42);
  EXPECT_EQ(rng.next_uint64(), 6909045637428952499ull);
  EXPECT_EQ(rng.next_uint64(), 17537583593393853710ull);
}

// Legacy randint with a range that fits 32 bits uses the same masked
// rejection as random_interval:
// python -c "import numpy as np; print(np.random.RandomState(42)
//     .randint(0, 10, size=8).tolist())"   -> [6, 3, 7, 4, 6, 9, 2, 6]
TEST(KShotNumpyRandom, RandomIntervalMatchesNumpy) {
  const std::uint64_t expected[] = {6, 3, 7, 4, 6, 9, 2, 6};
  mezo::detail::NumpyLegacyRandom rng(42);
  for (std::uint64_t want : expected) EXPECT_EQ(rng.random_interval(9), want);
  EXPECT_EQ(rng.random_interval(0), 0u);
}

// for s in (0, 42, 13, 2**32 - 1):
//   lines = list(range(10)); np.random.seed(s); np.random.shuffle(lines); print(s, lines)
// printed (NumPy 2.4.6):
//   0 [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]
//   42 [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]
//   13 [3, 5, 6, 1, 4, 7, 8, 9, 0, 2]
//   4294967295 [6, 9, 5, 1, 8, 0, 7, 4, 2, 3]
struct ShuffleCase {
  std::uint32_t seed;
  std::vector<int> permutation;
};
const ShuffleCase kShuffleCases[] = {
    {0u, {2, 8, 4, 9, 1, 6, 7, 3, 0, 5}},
    {42u, {8, 1, 5, 0, 7, 2, 9, 4, 3, 6}},
    {13u, {3, 5, 6, 1, 4, 7, 8, 9, 0, 2}},
    {4294967295u, {6, 9, 5, 1, 8, 0, 7, 4, 2, 3}},
};

TEST(KShotNumpyRandom, ShuffleOfTenMatchesNumpy) {
  for (const ShuffleCase& c : kShuffleCases) {
    std::vector<int> lines(10);
    std::iota(lines.begin(), lines.end(), 0);
    mezo::detail::NumpyLegacyRandom(c.seed).shuffle(lines);
    EXPECT_EQ(lines, c.permutation) << "seed " << c.seed;
  }
}

// The same permutations through the public API: one label, k = 5, so train
// is the first half of the shuffled lines and dev the second.
TEST(KShotSplit, SplitOfOneLabelIsTheNumpyShuffle) {
  TempDir dir;
  const auto zero = [](int) { return 0; };
  const fs::path path = write_bytes(dir / "train.tsv", numbered_tsv(10, zero));
  mezo::TsvOptions one;
  one.num_labels = 1;
  for (const ShuffleCase& c : kShuffleCases) {
    const mezo::KShotSplit split = mezo::make_kshot_split(path, 5, c.seed, one);
    const std::vector<int> first(c.permutation.begin(), c.permutation.begin() + 5);
    const std::vector<int> second(c.permutation.begin() + 5, c.permutation.end());
    EXPECT_EQ(split.train_lines, numbered_lines(first, zero)) << "seed " << c.seed;
    EXPECT_EQ(split.dev_lines, numbered_lines(second, zero)) << "seed " << c.seed;
  }
}

// Groups come in first-seen order: with seed 42 the shuffled order starts
// with line 8, whose label is 1, so label 1's lines are written first. The
// expected files were produced by LM-BFF's procedure in Python (readlines,
// np.random.seed(42), np.random.shuffle, group by line.strip().split('\t')[-1])
// on this file with k = 2.
TEST(KShotSplit, GroupsInFirstSeenOrderAndWritesFiles) {
  TempDir dir;
  const auto label_of = [](int i) { return (i + 1) % 2; };
  const fs::path train = write_bytes(dir / "train.tsv", numbered_tsv(10, label_of));
  const fs::path dev = write_bytes(dir / "dev.tsv", kHeader + "held out .\t1\nanother\t0");
  const mezo::KShotSplit split = mezo::make_kshot_split(train, 2, 42);
  EXPECT_EQ(split.train_lines, numbered_lines({8, 0, 1, 5}, label_of));
  EXPECT_EQ(split.dev_lines, numbered_lines({2, 4, 7, 9}, label_of));

  const fs::path out = dir.path() / "nested" / "2-42";
  mezo::write_kshot_split(split, dev, out);
  EXPECT_EQ(read_bytes(out / "train.tsv"), kHeader + "s8\t1\ns0\t1\ns1\t0\ns5\t0\n");
  EXPECT_EQ(read_bytes(out / "dev.tsv"), kHeader + "s2\t1\ns4\t1\ns7\t0\ns9\t0\n");
  EXPECT_EQ(read_bytes(out / "test.tsv"), read_bytes(dev));  // a byte copy, no newline added
  // Only the three files: no temporary file left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 3);
}

TEST(KShotSplit, CrlfTrainLinesAreWrittenWithLf) {
  TempDir dir;
  const fs::path lf = write_bytes(dir / "lf.tsv", numbered_tsv(10, [](int i) { return i % 2; }));
  std::string crlf_bytes;
  for (char c : read_bytes(lf)) crlf_bytes += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const fs::path crlf = write_bytes(dir / "crlf.tsv", crlf_bytes);
  const mezo::KShotSplit a = mezo::make_kshot_split(lf, 2, 7);
  const mezo::KShotSplit b = mezo::make_kshot_split(crlf, 2, 7);
  EXPECT_EQ(a.train_lines, b.train_lines);
  EXPECT_EQ(a.dev_lines, b.dev_lines);
}

TEST(KShotSplit, Sst2Split16Seed42IsByteIdenticalToTheReference) {
  const fs::path sst2 = fs::path(MEZO_SHARED_DATA_DIR) / "SST-2";
  const fs::path reference = sst2 / "k-shot" / "16-42";
  if (!fs::exists(sst2 / "glue" / "train.tsv") || !fs::exists(reference / "train.tsv"))
    GTEST_SKIP() << "the shared SST-2 data is not at " << sst2
                 << " (see ../shared/data/README.md); skipping the byte-identity check";
  TempDir dir;
  const mezo::KShotSplit split = mezo::make_kshot_split(sst2 / "glue" / "train.tsv", 16, 42);
  EXPECT_EQ(split.train_lines.size(), 32u);
  EXPECT_EQ(split.dev_lines.size(), 32u);
  mezo::write_kshot_split(split, sst2 / "glue" / "dev.tsv", dir.path() / "16-42");
  for (const char* name : {"train.tsv", "dev.tsv", "test.tsv"}) {
    const std::string ours = read_bytes(dir.path() / "16-42" / name);
    const std::string theirs = read_bytes(reference / name);
    EXPECT_EQ(ours.size(), theirs.size()) << name;
    EXPECT_TRUE(ours == theirs) << name << " differs from " << (reference / name);
  }
}

TEST(KShotSplit, KLargerThanAClassAllowsNamesTheLabel) {
  TempDir dir;
  // Six lines of label 0, three of label 1.
  const fs::path path =
      write_bytes(dir / "small.tsv", numbered_tsv(9, [](int i) { return i < 6 ? 0 : 1; }));
  EXPECT_NO_THROW(mezo::make_kshot_split(path, 1, 42));
  const std::string message =
      error_of([&] { mezo::make_kshot_split(path, 2, 42); }, mezo::ErrorCode::invalid_argument);
  EXPECT_HAS(message, path.string());
  EXPECT_HAS(message, "k = 2");
  EXPECT_HAS(message, "label 1 has 3 lines");
  EXPECT_HAS(message, "2k = 4");
  EXPECT_EQ(message.find("label 0"), std::string::npos) << message;
  // Both labels short; and a label that never occurs.
  const std::string both =
      error_of([&] { mezo::make_kshot_split(path, 4, 42); }, mezo::ErrorCode::invalid_argument);
  EXPECT_HAS(both, "label 0 has 6 lines");
  EXPECT_HAS(both, "label 1 has 3 lines");
  mezo::TsvOptions three;
  three.num_labels = 3;
  EXPECT_HAS(error_of([&] { mezo::make_kshot_split(path, 1, 42, three); },
                      mezo::ErrorCode::invalid_argument),
             "label 2 has 0 lines");
}

TEST(KShotSplit, RejectsNonPositiveK) {
  TempDir dir;
  const fs::path path = write_bytes(dir / "t.tsv", numbered_tsv(4, [](int i) { return i % 2; }));
  EXPECT_HAS(
      error_of([&] { mezo::make_kshot_split(path, 0, 42); }, mezo::ErrorCode::invalid_argument),
      "k must be at least 1");
}

TEST(KShotSplit, BadTrainFilesNameFileAndLine) {
  TempDir dir;
  const fs::path missing = dir / "missing.tsv";
  EXPECT_HAS(error_of([&] { mezo::make_kshot_split(missing, 1, 42); }, mezo::ErrorCode::io),
             missing.string());
  struct Case {
    std::string bytes, part;
  };
  const Case cases[] = {
      {"", "no examples"},
      {kHeader, "no examples"},
      {kHeader + "a\t1\nb\t0\nc\n", "line 4"},
      {kHeader + "a\t1\nb\t0\tx\n", "line 3"},
      {kHeader + "a\t1\nb\tzero\n", "line 3"},
      {kHeader + "a\t1\nb\t2\n", "line 3"},
      {kHeader + "a\t1\nb\xfe\t0\n", "line 3"},
      {kHeader + "a\t1\n \t0\n", "line 3"},
  };
  for (const Case& c : cases) {
    const fs::path path = write_bytes(dir / "bad.tsv", c.bytes);
    const std::string message =
        error_of([&] { mezo::make_kshot_split(path, 1, 42); }, mezo::ErrorCode::invalid_format);
    EXPECT_HAS(message, path.string());
    EXPECT_HAS(message, c.part);
  }
}

TEST(KShotSplit, WriteRejectsBadDevFilesAndMultiLineEntries) {
  TempDir dir;
  const fs::path dev = write_bytes(dir / "dev.tsv", kHeader + "fine\t1\nbad\t7\n");
  mezo::KShotSplit split;
  split.train_lines = {"a\t1"};
  split.dev_lines = {"b\t0"};
  const std::string message = error_of([&] { mezo::write_kshot_split(split, dev, dir / "out"); },
                                       mezo::ErrorCode::invalid_format);
  EXPECT_HAS(message, dev.string());
  EXPECT_HAS(message, "line 3");
  EXPECT_FALSE(fs::exists(dir / "out" / "train.tsv"));

  const fs::path good_dev = write_bytes(dir / "good.tsv", kHeader + "fine\t1\n");
  split.dev_lines = {"b\t0\nc\t1"};
  EXPECT_HAS(error_of([&] { mezo::write_kshot_split(split, good_dev, dir / "out"); },
                      mezo::ErrorCode::invalid_argument),
             "dev_lines[0]");
  split.dev_lines = {"b\t0"};
  const fs::path missing = dir / "nope.tsv";
  EXPECT_HAS(
      error_of([&] { mezo::write_kshot_split(split, missing, dir / "out"); }, mezo::ErrorCode::io),
      missing.string());
  EXPECT_FALSE(fs::exists(dir / "out" / "train.tsv"));
}

// Values NumPy 2.4.6 printed:
//   np.random.seed(42); np.random.permutation(67349)[:8]
//   np.random.seed(13); np.random.permutation(67349)[1000:1004]
//   np.random.seed(0);  np.random.permutation(10)
TEST(NumpyPermutation, IsNumpys) {
  const auto p42 = mezo::numpy_permutation(67349, 42);
  EXPECT_EQ(std::vector<std::size_t>(p42.begin(), p42.begin() + 8),
            (std::vector<std::size_t>{66730, 29890, 45801, 29352, 19858, 15364, 30026, 38039}));
  const auto p13 = mezo::numpy_permutation(67349, 13);
  EXPECT_EQ(std::vector<std::size_t>(p13.begin() + 1000, p13.begin() + 1004),
            (std::vector<std::size_t>{7329, 34538, 50603, 43644}));
  EXPECT_EQ(mezo::numpy_permutation(10, 0),
            (std::vector<std::size_t>{2, 8, 4, 9, 1, 6, 7, 3, 0, 5}));
}

// The k-shot generator shuffles with the same NumPy algorithm (checked above
// against LM-BFF's files): on a one-label file whose line i names i,
// its train + dev lines are the first 2k of the permutation.
TEST(NumpyPermutation, AgreesWithTheKShotShuffle) {
  TempDir dir;
  constexpr std::size_t n = 1001;
  std::string tsv = "sentence\tlabel\n";
  for (std::size_t i = 0; i < n; ++i) tsv += fmt::format("line {}\t0\n", i);
  const auto file = write_bytes(dir / "train.tsv", tsv);
  for (const std::uint32_t seed : {13u, 21u, 42u, 87u, 100u}) {
    const auto split = mezo::make_kshot_split(file, 500, seed, {.num_labels = 1});
    std::vector<std::size_t> shuffled;
    for (const auto* lines : {&split.train_lines, &split.dev_lines})
      for (const std::string& line : *lines) shuffled.push_back(std::stoul(line.substr(5)));
    const auto permutation = mezo::numpy_permutation(n, seed);
    EXPECT_EQ(shuffled, std::vector<std::size_t>(permutation.begin(), permutation.begin() + 1000))
        << "seed " << seed;
  }
}
