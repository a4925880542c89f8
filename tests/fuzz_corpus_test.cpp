// Every fuzz target (tests/fuzz/targets) over its seed corpus and its kept
// crashing inputs, in the ordinary build: the crashes the fuzzers found stay
// fixed in every configuration CI builds, not just the clang fuzz build.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "fuzz/targets.hpp"

namespace {

namespace fs = std::filesystem;

struct Target {
  const char* name;
  int (*run)(const std::uint8_t*, std::size_t);
  bool needs_shared_data;
};

#define MEZO_FUZZ_TABLE_ENTRY(name, shared) Target{#name, &mezo_fuzz::name, shared},
const Target kTargets[] = {MEZO_FUZZ_TARGETS(MEZO_FUZZ_TABLE_ENTRY)};
#undef MEZO_FUZZ_TABLE_ENTRY

const fs::path kFuzzDir = MEZO_FUZZ_DIR;

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::exists(dir)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class FuzzCorpus : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzCorpus, EverySeedAndKeptCrashRunsCleanly) {
  const Target& target = GetParam();
  if (target.needs_shared_data && !fs::exists(fs::path(MEZO_SHARED_DATA_DIR) / "tokenizers")) {
    GTEST_SKIP() << "fuzz target " << target.name << " needs the shared data folder's tokenizers, absent at "
                 << MEZO_SHARED_DATA_DIR;
  }
  const auto seeds = files_in(kFuzzDir / "corpus" / target.name);
  // The seed corpus is made by tools/make_fuzz_corpus.py; an empty one means
  // the target is replayed against nothing.
  ASSERT_GE(seeds.size(), 3u) << "no seed corpus at " << (kFuzzDir / "corpus" / target.name);
  auto inputs = seeds;
  for (auto& crash : files_in(kFuzzDir / "crashes" / target.name)) inputs.push_back(crash);
  for (const auto& input : inputs) {
    SCOPED_TRACE(input.string());
    const std::string bytes = read_bytes(input);
    try {
      EXPECT_EQ(target.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the target threw " << typeid(e).name() << ": " << e.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzCorpus, ::testing::ValuesIn(kTargets),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(FuzzCorpusLayout, EveryCorpusFolderNamesATarget) {
  std::set<std::string> names;
  for (const auto& t : kTargets) names.insert(t.name);
  for (const char* kind : {"corpus", "crashes"}) {
    if (!fs::exists(kFuzzDir / kind)) continue;
    for (const auto& entry : fs::directory_iterator(kFuzzDir / kind)) {
      EXPECT_TRUE(names.count(entry.path().filename().string()))
          << entry.path() << " names no target in tests/fuzz/targets.hpp";
    }
  }
  for (const auto& source : fs::directory_iterator(kFuzzDir / "targets")) {
    if (source.path().extension() != ".cpp") continue;
    EXPECT_TRUE(names.count(source.path().stem().string()))
        << source.path() << " is not listed in tests/fuzz/targets.hpp";
  }
}

}  // namespace
