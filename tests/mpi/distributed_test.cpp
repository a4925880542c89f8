// mezo::mpi under mpirun (-np 2 and -np 3, see tests/mpi/CMakeLists.txt):
// data-parallel replicas stay bit-identical and equal one process on the whole
// batch; seed-parallel equals one process running n-SPSA, bit for bit; NaNs,
// exceptions and disagreeing ranks stop every rank the same way; a stalled
// rank makes the others throw within their deadline.
//
// Every rank runs every test. A rank that fails an assertion before a
// collective leaves the others waiting only until their deadline (a few
// seconds here), so a failure never hangs the suite.
#include "mezo/distributed.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>

#include "mezo/ada_mezo.hpp"
#include "mezo/distributed_mpi.hpp"
#include "mezo/error.hpp"
#include "mezo/fzoo.hpp"
#include "mezo/objective.hpp"
#include "mezo/optimizer.hpp"
#include "mezo/step.hpp"

namespace {

constexpr double kTimeout = 10.0;  // seconds: generous, only a broken test waits this long

// A linear classifier over synthetic features: logits of example i are
// computed from example i alone, so its loss does not depend on which other
// examples share the forward (the property data-parallel equality needs).
struct Problem {
  static constexpr int kFeatures = 301, kClasses = 3;
  std::vector<float> weight, bias;
  std::vector<float> features;  // [examples × kFeatures]
  std::vector<std::int32_t> labels;
  mezo::ParamSet params;

  explicit Problem(int examples, std::uint64_t seed = 5) {
    std::mt19937_64 gen(seed);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    weight.resize(kFeatures * kClasses);
    bias.resize(kClasses);
    for (float& w : weight) w = normal(gen);
    for (float& b : bias) b = normal(gen);
    std::normal_distribution<float> unit(0.0f, 1.0f);
    features.resize(static_cast<std::size_t>(examples) * kFeatures);
    for (float& x : features) x = unit(gen);
    for (int i = 0; i < examples; ++i)
      labels.push_back(static_cast<std::int32_t>(gen() % kClasses));
    params.add("linear.weight", weight.data(), weight.size());
    params.add("linear.bias", bias.data(), bias.size());
  }
  Problem(const Problem&) = delete;

  std::int64_t examples() const { return static_cast<std::int64_t>(labels.size()); }

  void logits(std::int64_t begin, std::int64_t end, std::vector<float>& out) const {
    out.assign(static_cast<std::size_t>((end - begin) * kClasses), 0.0f);
    for (std::int64_t i = begin; i < end; ++i) {
      for (int c = 0; c < kClasses; ++c) {
        float acc = bias[c];
        for (int f = 0; f < kFeatures; ++f) {
          acc += features[static_cast<std::size_t>(i * kFeatures + f)] *
                 weight[static_cast<std::size_t>(f * kClasses + c)];
        }
        out[static_cast<std::size_t>((i - begin) * kClasses + c)] = acc;
      }
    }
  }
  // The loss one process computes on the whole batch.
  float whole_batch_loss(const mezo::Objective& objective) const {
    std::vector<float> l;
    logits(0, examples(), l);
    return objective({l.data(), examples(), kClasses}, labels);
  }
  void shard_losses(const mezo::Objective& objective, mezo::Shard shard,
                    std::span<double> out) const {
    std::vector<float> l;
    logits(shard.begin, shard.end, l);
    objective.example_losses({l.data(), shard.size(), kClasses},
                             std::span(labels).subspan(shard.begin, shard.size()), out);
  }
  std::vector<std::byte> bytes() const {
    std::vector<std::byte> out(sizeof(float) * (weight.size() + bias.size()));
    std::memcpy(out.data(), weight.data(), sizeof(float) * weight.size());
    std::memcpy(out.data() + sizeof(float) * weight.size(), bias.data(),
                sizeof(float) * bias.size());
    return out;
  }
};

mezo::Communicator& world() {
  static mezo::Communicator comm = mezo::Communicator::world({.timeout_s = kTimeout});
  return comm;
}

void expect_same_result(const mezo::StepResult& a, const mezo::StepResult& b) {
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.message, b.message);
  // Bit patterns, so that NaN == NaN and −0 != +0.
  const auto bits = [](float x) { return std::bit_cast<std::uint32_t>(x); };
  EXPECT_EQ(bits(a.loss_plus), bits(b.loss_plus));
  EXPECT_EQ(bits(a.loss_minus), bits(b.loss_minus));
  EXPECT_EQ(bits(a.projected_grad), bits(b.projected_grad));
  ASSERT_EQ(a.estimates.size(), b.estimates.size());
  for (std::size_t i = 0; i < a.estimates.size(); ++i) {
    EXPECT_EQ(a.estimates[i].seed, b.estimates[i].seed);
    EXPECT_EQ(bits(a.estimates[i].loss_plus), bits(b.estimates[i].loss_plus));
    EXPECT_EQ(bits(a.estimates[i].loss_minus), bits(b.estimates[i].loss_minus));
    EXPECT_EQ(bits(a.estimates[i].projected_grad), bits(b.estimates[i].projected_grad));
  }
  EXPECT_EQ(bits(a.update.lr), bits(b.update.lr));
  EXPECT_EQ(bits(a.update.decay), bits(b.update.decay));
  ASSERT_EQ(a.update.terms.size(), b.update.terms.size());
  for (std::size_t i = 0; i < a.update.terms.size(); ++i) {
    EXPECT_EQ(a.update.terms[i].seed, b.update.terms[i].seed);
    EXPECT_EQ(bits(a.update.terms[i].coef), bits(b.update.terms[i].coef));
  }
}

// communicator_from_mpi passes the application's communicator through its
// language-neutral handle (mezo/distributed.hpp needs no <mpi.h>): the
// duplicate must be a communicator of the same group, not e.g. COMM_SELF.
TEST(Communicator, FromTheApplicationsCommunicator) {
  MPI_Comm reversed = MPI_COMM_NULL;  // ranks in reverse order: not COMM_WORLD's numbering
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  ASSERT_EQ(MPI_Comm_split(MPI_COMM_WORLD, 0, size - 1 - rank, &reversed), MPI_SUCCESS);
  {
    mezo::Communicator comm = mezo::communicator_from_mpi(reversed, {.timeout_s = kTimeout});
    EXPECT_EQ(comm.size(), size);
    EXPECT_EQ(comm.rank(), size - 1 - rank);
    const std::vector<std::int64_t> ranks = comm.all_gather(std::int64_t{rank}, "world ranks");
    for (int r = 0; r < size; ++r) EXPECT_EQ(ranks[static_cast<std::size_t>(r)], size - 1 - r);
  }
  MPI_Comm_free(&reversed);
}

TEST(ShardOf, CoversTheBatchInOrderAndBalanced) {
  for (int ranks = 1; ranks <= 5; ++ranks) {
    for (std::int64_t examples : {0, 1, 2, 7, 16, 17}) {
      std::int64_t next = 0;
      for (int r = 0; r < ranks; ++r) {
        const mezo::Shard s = mezo::shard_of(examples, r, ranks);
        EXPECT_EQ(s.begin, next);
        EXPECT_GE(s.size(), examples / ranks);
        EXPECT_LE(s.size(), examples / ranks + 1);
        next = s.end;
      }
      EXPECT_EQ(next, examples);
    }
  }
  EXPECT_THROW(mezo::shard_of(4, 2, 2), mezo::Error);
}

// The replicas stay bit-identical (checked every 3 steps), and equal one
// process stepping on the whole batch: weights and every StepResult, bit for
// bit, whatever the number of ranks (13 examples split unevenly).
class DataParallelRun : public ::testing::TestWithParam<bool> {};

TEST_P(DataParallelRun, ReplicasStayIdenticalAndEqualOneProcess) {
  const bool exact_restore = GetParam();
  const mezo::StepOptions options{.exact_restore = exact_restore};
  const mezo::CrossEntropy objective;
  const mezo::ZoSgdConfig config{.lr = 0.05f, .eps = 1e-3f, .weight_decay = 0.01f};
  Problem distributed(13), single(13);
  mezo::ZoSgd opt_distributed(config), opt_single(config);
  mezo::DataParallel dp(world());
  ASSERT_EQ(distributed.bytes(), single.bytes());
  const float initial_loss = single.whole_batch_loss(objective);

  for (int t = 0; t < 12; ++t) {
    const std::uint64_t seed = 1000 + static_cast<std::uint64_t>(t);
    const mezo::StepResult r = dp.step(
        distributed.params, opt_distributed, distributed.examples(),
        [&](mezo::Shard shard, std::span<double> out) {
          distributed.shard_losses(objective, shard, out);
        },
        seed, options);
    const mezo::StepResult expected = mezo::step(
        single.params, opt_single, [&] { return single.whole_batch_loss(objective); }, seed,
        options);
    ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
    expect_same_result(r, expected);
    if (t % 3 == 2) dp.check_replicas(distributed.params);
  }
  EXPECT_EQ(distributed.bytes(), single.bytes());
  EXPECT_EQ(opt_distributed.step_count(), 12);
  // The run did move the weights (the comparison above is not vacuous).
  EXPECT_NE(single.whole_batch_loss(objective), initial_loss);
}

INSTANTIATE_TEST_SUITE_P(ExactRestore, DataParallelRun, ::testing::Bool());

// FZOO (one-sided probes) and AdaMeZO (update terms along earlier seeds) run
// through DataParallel as through mezo::step in one process, bit for bit.
TEST(DataParallel, FzooAndAdaMezoEqualOneProcess) {
  const mezo::CrossEntropy objective;
  const auto make = [](int which) -> std::unique_ptr<mezo::Optimizer> {
    if (which == 0) return std::make_unique<mezo::Fzoo>(mezo::FzooConfig{.lr = 0.05f, .directions = 3});
    return std::make_unique<mezo::AdaMezo>(mezo::AdaMezoConfig{.lr = 0.05f, .history = 3});
  };
  for (int which : {0, 1}) {
    SCOPED_TRACE(which == 0 ? "FZOO" : "AdaMeZO");
    Problem distributed(13), single(13);
    const auto opt_distributed = make(which), opt_single = make(which);
    mezo::DataParallel dp(world());
    for (int t = 0; t < 6; ++t) {
      const std::uint64_t seed = 500 + static_cast<std::uint64_t>(t);
      const mezo::StepResult r = dp.step(
          distributed.params, *opt_distributed, distributed.examples(),
          [&](mezo::Shard shard, std::span<double> out) {
            distributed.shard_losses(objective, shard, out);
          },
          seed);
      const mezo::StepResult expected = mezo::step(
          single.params, *opt_single, [&] { return single.whole_batch_loss(objective); }, seed);
      ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
      expect_same_result(r, expected);
    }
    dp.check_replicas(distributed.params);
    EXPECT_EQ(distributed.bytes(), single.bytes());
  }
}

TEST(DataParallel, GlobalMeanEqualsTheObjectiveOnTheWholeBatch) {
  Problem p(11);
  mezo::DataParallel dp(world());
  for (const mezo::Objective* objective : std::initializer_list<const mezo::Objective*>{
           new mezo::CrossEntropy, new mezo::NegativeAccuracy}) {
    const mezo::Shard shard = dp.shard(p.examples());
    std::vector<double> losses(static_cast<std::size_t>(shard.size()));
    p.shard_losses(*objective, shard, losses);
    const float mean = dp.global_mean(p.examples(), losses, 7);
    EXPECT_EQ(std::bit_cast<std::uint32_t>(mean),
              std::bit_cast<std::uint32_t>(p.whole_batch_loss(*objective)))
        << objective->name();
    delete objective;
  }
}

// A NaN in one rank's shard is a NaN loss on every rank: all reject the step
// and keep their weights bit-identical to before it.
TEST(DataParallel, NanOnOneRankRejectsTheStepOnAll) {
  const mezo::CrossEntropy objective;
  Problem p(9);
  mezo::ZoSgd opt({.lr = 0.05f, .eps = 1e-3f});
  mezo::DataParallel dp(world());
  const int poisoned_rank = world().size() - 1;
  for (int t = 0; t < 4; ++t) {
    const auto before = p.bytes();
    int calls = 0;
    const mezo::StepResult r = dp.step(
        p.params, opt, p.examples(),
        [&](mezo::Shard shard, std::span<double> out) {
          p.shard_losses(objective, shard, out);
          // Step 2's ℓ− on the last rank only.
          if (t == 2 && ++calls == 2 && world().rank() == poisoned_rank) {
            out[0] = std::numeric_limits<double>::quiet_NaN();
          }
        },
        50 + static_cast<std::uint64_t>(t));
    if (t == 2) {
      EXPECT_EQ(r.status, mezo::StepStatus::nonfinite_loss);
      EXPECT_NE(r.message.find("loss_minus"), std::string::npos) << r.message;
      EXPECT_EQ(p.bytes(), before);
      EXPECT_EQ(opt.step_count(), 2);
    } else {
      EXPECT_EQ(r.status, mezo::StepStatus::ok) << r.message;
      EXPECT_NE(p.bytes(), before);
    }
  }
  dp.check_replicas(p.params);
}

// The loss throwing on one rank: it gets its own exception back, the others
// a mezo::Error naming that rank; θ restored everywhere; nobody waits.
TEST(DataParallel, ExceptionOnOneRankStopsAllWithoutWaiting) {
  const mezo::CrossEntropy objective;
  Problem p(8);
  mezo::ZoSgd opt({.lr = 0.05f, .eps = 1e-3f});
  mezo::DataParallel dp(world());
  const auto before = p.bytes();
  const auto start = std::chrono::steady_clock::now();
  int calls = 0;
  const auto loss = [&](mezo::Shard shard, std::span<double> out) {
    p.shard_losses(objective, shard, out);
    if (++calls == 2 && world().rank() == 1) throw std::runtime_error("shard exploded");
  };
  if (world().rank() == 1) {
    EXPECT_THROW(
        {
          try {
            dp.step(p.params, opt, p.examples(), loss, 77);
          } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "shard exploded");
            throw;
          }
        },
        std::runtime_error);
  } else {
    try {
      dp.step(p.params, opt, p.examples(), loss, 77);
      ADD_FAILURE() << "no exception on rank " << world().rank();
    } catch (const mezo::Error& e) {
      EXPECT_EQ(e.code(), mezo::ErrorCode::distributed);
      EXPECT_NE(std::string(e.what()).find("rank 1 threw"), std::string::npos) << e.what();
    }
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
            kTimeout / 2);
  EXPECT_EQ(p.bytes(), before);
  EXPECT_EQ(opt.step_count(), 0);
  dp.check_replicas(p.params);
}

TEST(DataParallel, RanksWithDifferentSeedsAllThrow) {
  const mezo::CrossEntropy objective;
  Problem p(6);
  mezo::ZoSgd opt({.lr = 0.05f, .eps = 1e-3f});
  mezo::DataParallel dp(world());
  const auto before = p.bytes();
  try {
    dp.step(
        p.params, opt, p.examples(),
        [&](mezo::Shard s, std::span<double> out) { p.shard_losses(objective, s, out); },
        world().rank() == 1 ? 8 : 9);
    ADD_FAILURE() << "no error";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::distributed);
    EXPECT_NE(std::string(e.what()).find("must run the same steps"), std::string::npos) << e.what();
  }
  EXPECT_EQ(p.bytes(), before);
}

// n-SPSA across ranks equals n-SPSA in one process with the same step seeds:
// weights and results, bit for bit; with weight decay and a linear schedule,
// n a multiple of the rank count and not.
class SeedParallelRun : public ::testing::TestWithParam<int> {};

TEST_P(SeedParallelRun, EqualsOneProcessNSpsaBitForBit) {
  const int directions = world().size() * 2 + GetParam();
  const mezo::CrossEntropy objective;
  const mezo::ZoSgdConfig config{.lr = 0.05f,
                                 .eps = 1e-3f,
                                 .weight_decay = 0.02f,
                                 .schedule = mezo::LrSchedule::linear(10, 0.1f)};
  Problem distributed(10), single(10);
  mezo::NSpsa opt_distributed(config, directions), opt_single(config, directions);
  mezo::SeedParallel sp(world());
  mezo::DataParallel checker(world());
  for (int t = 0; t < 6; ++t) {
    const std::uint64_t seed = 31 * static_cast<std::uint64_t>(t) + 5;
    const mezo::StepResult r = sp.step(
        distributed.params, opt_distributed,
        [&] { return distributed.whole_batch_loss(objective); }, seed);
    const mezo::StepResult expected = mezo::step(
        single.params, opt_single, [&] { return single.whole_batch_loss(objective); }, seed);
    ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
    ASSERT_EQ(r.estimates.size(), static_cast<std::size_t>(directions));
    expect_same_result(r, expected);
    ASSERT_EQ(distributed.bytes(), single.bytes()) << "step " << t;
  }
  checker.check_replicas(distributed.params);
  EXPECT_EQ(opt_distributed.step_count(), 6);
}

INSTANTIATE_TEST_SUITE_P(ExtraDirections, SeedParallelRun, ::testing::Values(0, 1));

// A NaN at ℓ− of direction 1 (probed by rank 1): rejected exactly as one
// process rejects it, weights untouched on every rank.
TEST(SeedParallel, NanIsRejectedAsInOneProcess) {
  const int directions = world().size();
  const mezo::CrossEntropy objective;
  Problem distributed(7), single(7);
  mezo::NSpsa opt_distributed({.lr = 0.05f, .eps = 1e-3f}, directions),
      opt_single({.lr = 0.05f, .eps = 1e-3f}, directions);
  mezo::SeedParallel sp(world());
  const auto before = single.bytes();
  int calls = 0;
  const mezo::StepResult r = sp.step(
      distributed.params, opt_distributed,
      [&] {
        const float l = distributed.whole_batch_loss(objective);
        return world().rank() == 1 && ++calls == 2 ? std::numeric_limits<float>::quiet_NaN() : l;
      },
      99);
  int single_calls = 0;
  const mezo::StepResult expected = mezo::step(
      single.params, opt_single,
      [&] {
        const float l = single.whole_batch_loss(objective);
        return ++single_calls == 4 ? std::numeric_limits<float>::quiet_NaN() : l;
      },
      99);
  EXPECT_EQ(expected.status, mezo::StepStatus::nonfinite_loss);
  expect_same_result(r, expected);
  EXPECT_EQ(distributed.bytes(), before);
  EXPECT_EQ(single.bytes(), before);
  EXPECT_EQ(opt_distributed.step_count(), 0);
}

TEST(SeedParallel, RejectsInexactRestoreAndTooFewDirections) {
  Problem p(4);
  const mezo::CrossEntropy objective;
  mezo::SeedParallel sp(world());
  mezo::NSpsa enough({.lr = 0.05f}, world().size());
  EXPECT_THROW(sp.step(p.params, enough, [&] { return p.whole_batch_loss(objective); }, 1,
                       {.exact_restore = false}),
               mezo::Error);
  mezo::ZoSgd one({.lr = 0.05f});
  EXPECT_THROW(sp.step(
                   p.params, one, [&] { return p.whole_batch_loss(objective); }, 1),
               mezo::Error);
  // One-sided probes share ℓ0 and σ across directions: refused, θ untouched.
  const auto before = p.bytes();
  mezo::Fzoo fzoo({.lr = 0.05f, .directions = std::max(2, world().size())});
  try {
    sp.step(p.params, fzoo, [&] { return p.whole_batch_loss(objective); }, 1);
    ADD_FAILURE() << "SeedParallel ran a one-sided optimizer";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::unsupported) << e.what();
  }
  EXPECT_EQ(p.bytes(), before);
}

// A rank that stalls (here: sleeps past the deadline) makes the others throw
// "got no answer ... within" at their deadline, not hang. Runs last: it
// leaves its own communicator failed, with a collective in flight.
TEST(ZzTimeout, StalledRankMakesTheOthersThrowAtTheirDeadline) {
  constexpr double timeout = 0.5;
  static mezo::Communicator comm = mezo::Communicator::world({.timeout_s = timeout});
  static mezo::DataParallel dp(comm);
  const mezo::CrossEntropy objective;
  Problem p(6);
  mezo::ZoSgd opt({.lr = 0.05f, .eps = 1e-3f});
  const auto before = p.bytes();
  const bool stalled = comm.rank() == comm.size() - 1;
  const auto loss = [&](mezo::Shard s, std::span<double> out) {
    p.shard_losses(objective, s, out);
  };
  if (stalled) std::this_thread::sleep_for(std::chrono::duration<double>(3 * timeout));
  const auto start = std::chrono::steady_clock::now();
  try {
    dp.step(p.params, opt, p.examples(), loss, 3);
    ADD_FAILURE() << "rank " << comm.rank() << " finished a step the others gave up on";
  } catch (const mezo::Error& e) {
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(e.code(), mezo::ErrorCode::distributed);
    EXPECT_NE(std::string(e.what()).find("got no answer from the other ranks within 0.5 s"),
              std::string::npos)
        << e.what();
    if (!stalled) {
      EXPECT_GE(waited, timeout);
      EXPECT_LT(waited, timeout + 1.0);
    }
  }
  EXPECT_EQ(p.bytes(), before);
  // Later calls fail at once.
  EXPECT_THROW(comm.barrier("after the timeout"), mezo::Error);
  // Let the stalled rank catch up before the process ends (MPI_COMM_WORLD,
  // not the failed communicator).
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

int main(int argc, char** argv) {
  mezo::MpiSession mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (world().size() < 2) {
    std::fprintf(stderr, "distributed_test needs at least 2 ranks (run it under mpirun -np N)\n");
    return 1;
  }
  const int failed = RUN_ALL_TESTS();
  // Every rank's verdict, so that mpirun's status reflects any rank failing.
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any_failed;
}
