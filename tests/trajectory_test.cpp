// The trajectory log: round trip through the file, replay equal to the live
// run bit for bit, and damaged files detected rather than used.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mezo/mezo.hpp>
#include <random>
#include <vector>

#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using mezo_test::same_bytes;
using mezo_test::TempDir;

// A model whose loss needs many steps and sees occasional NaNs.
struct Model {
  std::vector<float> weight, bias;
  mezo::ParamSet params;
  Model() : weight(4000), bias(50) {
    std::mt19937 gen(17);
    std::normal_distribution<float> n(0.0f, 0.05f);
    for (float& v : weight) v = n(gen);
    for (float& v : bias) v = n(gen) * 1e-3f;
    params.add("fc.weight", weight.data(), weight.size());
    params.add("fc.bias", bias.data(), bias.size());
  }
  float loss() const {
    double s = 0;
    for (std::size_t i = 0; i < weight.size(); i += 7) s += std::pow(weight[i] - 0.1, 2);
    for (float b : bias) s += b * b;
    return float(s);
  }
};

struct RunOptions {
  int directions = 1;
  bool exact_restore = true;
  int steps = 60;
};

// Trains with a log, injecting a NaN every 13th step; returns the final weights.
Model train(const fs::path& log_path, RunOptions o) {
  Model m;
  mezo::NSpsa opt({.lr = 5e-3f, .eps = 1e-3f, .weight_decay = 0.05f}, o.directions);
  const mezo::SeedSchedule seeds(99);
  const mezo::StepOptions step_options{.exact_restore = o.exact_restore};
  auto writer = mezo::TrajectoryWriter::create(
      log_path, mezo::make_trajectory_header(opt, step_options, seeds.run_seed()));
  for (int t = 0; t < o.steps; ++t) {
    int calls = 0;
    const auto loss = [&] { return (t % 13 == 12 && ++calls == 2) ? NAN : m.loss(); };
    const auto r = mezo::step(m.params, opt, loss, seeds.seed_for_step(t), step_options);
    writer.append(t, r);
  }
  writer.sync();
  return m;
}

TEST(Trajectory, ReplayReproducesTheLiveRunBitForBit) {
  TempDir dir;
  for (RunOptions o :
       {RunOptions{1, true}, RunOptions{3, true}, RunOptions{1, false}, RunOptions{2, false}}) {
    const fs::path path = dir / "run.mezotrj";
    const Model live = train(path, o);
    const mezo::Trajectory log = mezo::read_trajectory(path);
    EXPECT_FALSE(log.damaged_tail);
    EXPECT_EQ(log.header.exact_restore, o.exact_restore);
    ASSERT_GE(log.records.size(), 60u);
    Model fresh;
    ASSERT_FALSE(same_bytes(fresh.weight, live.weight));
    mezo::replay(fresh.params, *mezo::gaussian_perturbation(), log);
    EXPECT_TRUE(same_bytes(fresh.weight, live.weight))
        << "directions " << o.directions << " exact " << o.exact_restore;
    EXPECT_TRUE(same_bytes(fresh.bias, live.bias));
  }
}

TEST(Trajectory, RecordsRoundTripThroughTheFile) {
  TempDir dir;
  const fs::path path = dir / "r.mezotrj";
  mezo::TrajectoryRecord rec;
  rec.step = 123456789012;
  rec.seed = 0xFEEDFACECAFEBEEFull;
  rec.eps = 1e-3f;
  rec.lr = 1e-6f;
  rec.projected_grad = -2.5f;
  rec.coef = 2.5e-6f;
  rec.decay = 0.0f;
  rec.loss_plus = 0.7f;
  rec.loss_minus = 0.71f;
  rec.direction = 2;
  rec.directions = 3;
  rec.flags = mezo::TrajectoryRecord::rejected;
  {
    auto w = mezo::TrajectoryWriter::create(path, {true, 2, 42});
    w.append({rec});
  }
  const auto t = mezo::read_trajectory(path);
  EXPECT_EQ(t.header.perturbation, 2u);
  EXPECT_EQ(t.header.run_seed, 42u);
  ASSERT_EQ(t.records.size(), 1u);
  const auto& r = t.records[0];
  EXPECT_EQ(r.step, rec.step);
  EXPECT_EQ(r.seed, rec.seed);
  EXPECT_EQ(r.projected_grad, rec.projected_grad);
  EXPECT_EQ(r.coef, rec.coef);
  EXPECT_EQ(r.loss_minus, rec.loss_minus);
  EXPECT_EQ(r.direction, 2);
  EXPECT_EQ(r.directions, 3);
  EXPECT_EQ(r.flags, rec.flags);
}

std::vector<char> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void write_bytes(const fs::path& p, const std::vector<char>& b) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(b.data(), std::streamsize(b.size()));
}

TEST(Trajectory, TruncatedTailIsReportedAndCutOnResume) {
  TempDir dir;
  const fs::path path = dir / "t.mezotrj";
  train(path, {.steps = 10});
  auto bytes = read_bytes(path);
  bytes.resize(bytes.size() - 20);  // a crash in the middle of the last append
  write_bytes(path, bytes);
  const auto t = mezo::read_trajectory(path);
  ASSERT_TRUE(t.damaged_tail);
  EXPECT_NE(t.damaged_tail->find("partial record"), std::string::npos) << *t.damaged_tail;
  EXPECT_EQ(t.records.size(), 9u);

  auto writer = mezo::TrajectoryWriter::open_append(path);
  EXPECT_EQ(writer.records_written(), 9u);
  writer.append({t.records.back()});
  writer.sync();
  const auto healed = mezo::read_trajectory(path);
  EXPECT_FALSE(healed.damaged_tail);
  EXPECT_EQ(healed.records.size(), 10u);
}

TEST(Trajectory, CorruptLastRecordIsReportedCorruptMiddleIsAnError) {
  TempDir dir;
  const fs::path path = dir / "c.mezotrj";
  train(path, {.steps = 10});
  auto bytes = read_bytes(path);
  auto last = bytes;
  last[last.size() - 30] ^= 0x01;
  write_bytes(path, last);
  const auto t = mezo::read_trajectory(path);
  ASSERT_TRUE(t.damaged_tail);
  EXPECT_NE(t.damaged_tail->find("CRC"), std::string::npos);
  EXPECT_EQ(t.records.size(), 9u);

  auto middle = bytes;
  middle[40 + 56 * 3 + 10] ^= 0x40;
  write_bytes(path, middle);
  try {
    mezo::read_trajectory(path);
    FAIL() << "expected an error";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::invalid_format);
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("record 3"), std::string::npos) << e.what();
  }
}

TEST(Trajectory, BadHeadersAndMissingFilesAreClearErrors) {
  TempDir dir;
  EXPECT_THROW(mezo::read_trajectory(dir / "missing.mezotrj"), mezo::Error);
  write_bytes(dir / "short", {'M', 'E', 'Z'});
  EXPECT_THROW(mezo::read_trajectory(dir / "short"), mezo::Error);
  write_bytes(dir / "text", std::vector<char>(64, 'x'));
  try {
    mezo::read_trajectory(dir / "text");
    FAIL();
  } catch (const mezo::Error& e) {
    EXPECT_NE(std::string(e.what()).find("magic"), std::string::npos) << e.what();
  }
}

TEST(Trajectory, ReplayRefusesAnotherPerturbation) {
  TempDir dir;
  train(dir / "g.mezotrj", {.steps = 2});
  Model m;
  EXPECT_THROW(mezo::replay(m.params, *mezo::rademacher_perturbation(),
                            mezo::read_trajectory(dir / "g.mezotrj")),
               mezo::Error);
}

TEST(Trajectory, CreateReplacesAtomicallyAndLeavesNoTempFiles) {
  TempDir dir;
  const fs::path path = dir / "a.mezotrj";
  train(path, {.steps = 5});
  { auto w = mezo::TrajectoryWriter::create(path, {}); }
  EXPECT_EQ(mezo::read_trajectory(path).records.size(), 0u);
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir / "")) ++files;
  EXPECT_EQ(files, 1);
}

}  // namespace

namespace {

TEST(Trajectory, WriterRefusesAStepOfAnotherRestoreMode) {
  TempDir dir;
  Model m;
  mezo::ZoSgd opt({.lr = 1e-3f});
  auto writer =
      mezo::TrajectoryWriter::create(dir / "m.mezotrj", mezo::make_trajectory_header(opt, {}, 1));
  const auto r = mezo::step(m.params, opt, [&] { return m.loss(); }, 1, {.exact_restore = false});
  EXPECT_THROW(writer.append(0, r), mezo::Error);
}

TEST(Trajectory, CreateErrorNamesTheRequestedPath) {
  try {
    mezo::TrajectoryWriter::create("/nonexistent-dir/run.mezotrj", {});
    FAIL();
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::io);
    EXPECT_NE(std::string(e.what()).find("'/nonexistent-dir/run.mezotrj'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
