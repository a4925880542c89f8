// Distributed MeZO step time and traffic (a plain timed MPI program; Google
// Benchmark does not know about ranks):
//
//   mpirun -np R build/mpi/benchmarks/distributed_benchmark [options]
//
// A random RoBERTa-shaped masked LM (default hidden 256, 4 layers, the
// RoBERTa vocabulary: 16.1M trainable parameters), a global batch of random
// token sequences, cross-entropy over two label words at one mask position.
// For R ranks it reports, from rank 0:
// - data-parallel: step time; of it, the time in this rank's forward on its
//   shard and the time waiting in the loss all-gathers; collectives and
//   payload bytes sent/received per step (TrafficCounters);
// - seed-parallel (n-SPSA with R directions, each rank the whole batch):
//   step time and bytes per step;
// - the latency of one loss all-gather alone (the per-step floor of the
//   communication).
// Results, command lines and machine are in docs/benchmarks.md.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "mezo/distributed.hpp"
#include "mezo/model/masked_lm.hpp"
#include "mezo/objective.hpp"
#include "mezo/optimizer.hpp"
#include "roberta_shapes.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

struct Options {
  int hidden = 256, layers = 4, batch = 16, seq = 64, steps = 10, threads = 1;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (key == "--hidden")
      o.hidden = value;
    else if (key == "--layers")
      o.layers = value;
    else if (key == "--batch")
      o.batch = value;
    else if (key == "--seq")
      o.seq = value;
    else if (key == "--steps")
      o.steps = value;
    else if (key == "--threads")
      o.threads = value;
    else {
      std::fprintf(stderr,
                   "unknown option %s (--hidden --layers --batch --seq --steps --threads)\n",
                   key.c_str());
      std::exit(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  mezo::MpiSession mpi(&argc, &argv);
  const Options o = parse(argc, argv);
  mezo::Communicator comm = mezo::Communicator::world({.timeout_s = 600});
  const bool root = comm.rank() == 0;

  const mezo::TransformerConfig c =
      bench::roberta_shape(o.hidden, o.layers, std::max(1, o.hidden / 64), 4 * o.hidden);
  mezo::MaskedLM model = mezo::MaskedLM::random(c, 1, {.num_threads = o.threads});
  const auto perturbation = mezo::gaussian_perturbation({.num_threads = o.threads});

  // The global batch: the same on every rank (a fixed seed).
  std::mt19937 gen(7);
  std::uniform_int_distribution<std::int32_t> token(3, 50000);
  std::vector<std::vector<std::int32_t>> rows(static_cast<std::size_t>(o.batch));
  std::vector<std::int32_t> labels;
  for (auto& r : rows) {
    r.resize(static_cast<std::size_t>(o.seq));
    for (auto& t : r) t = token(gen);
    labels.push_back(static_cast<std::int32_t>(gen() % 2));
  }
  const std::vector<std::int32_t> label_ids = {1000, 2000};
  const mezo::CrossEntropy objective;

  double forward_s = 0.0;
  std::vector<float> logits;
  // Per-example losses of rows [begin, end): one forward on that shard.
  const auto shard_losses = [&](std::int64_t begin, std::int64_t end, std::span<double> out) {
    const auto t = clock_type::now();
    const auto batch =
        mezo::TokenBatch::pad(std::span(rows).subspan(static_cast<std::size_t>(begin),
                                                      static_cast<std::size_t>(end - begin)),
                              c.pad_token_id);
    std::vector<mezo::MaskQuery> queries;
    for (std::int64_t i = 0; i < end - begin; ++i) queries.push_back({i, o.seq / 2});
    logits.resize(static_cast<std::size_t>((end - begin) * 2));
    model.mlm_logits(batch, queries, label_ids, logits);
    objective.example_losses({logits.data(), end - begin, 2},
                             std::span(labels).subspan(static_cast<std::size_t>(begin),
                                                       static_cast<std::size_t>(end - begin)),
                             out);
    forward_s += seconds_since(t);
  };

  if (root) {
    std::printf(
        "ranks %d, threads/rank %d, model hidden %d x %d layers (%llu parameters), "
        "global batch %d x %d tokens, %d steps\n",
        comm.size(), o.threads, o.hidden, o.layers,
        static_cast<unsigned long long>(model.num_parameters()), o.batch, o.seq, o.steps);
  }

  // Data-parallel.
  {
    mezo::DataParallel dp(comm);
    mezo::ZoSgd opt({.lr = 1e-6f, .eps = 1e-3f}, perturbation);
    const auto step = [&](int t) {
      return dp.step(
          model.params(), opt, o.batch,
          [&](mezo::Shard s, std::span<double> out) { shard_losses(s.begin, s.end, out); },
          static_cast<std::uint64_t>(t));
    };
    step(-1);  // warm-up: buffers grow to size
    comm.barrier("benchmark start");
    forward_s = 0.0;
    const mezo::TrafficCounters before = comm.traffic();
    const auto t0 = clock_type::now();
    float loss = 0.0f;
    for (int t = 0; t < o.steps; ++t) loss = step(t).loss_plus;
    const double total = seconds_since(t0);
    const mezo::TrafficCounters after = comm.traffic();
    // The slowest rank's forward time bounds the step.
    const std::vector<std::int64_t> forward_us =
        comm.all_gather(static_cast<std::int64_t>(forward_s * 1e6), "forward times");
    dp.check_replicas(model.params());
    if (root) {
      const double steps = o.steps;
      std::printf(
          "data-parallel: %.1f ms/step (forward on this rank's shard %.1f ms, slowest rank %.1f "
          "ms), %.2f collectives/step, %.0f bytes sent + %.0f received per step by rank 0, "
          "loss %.4f\n",
          1e3 * total / steps, 1e3 * forward_s / steps,
          1e-3 * static_cast<double>(*std::max_element(forward_us.begin(), forward_us.end())) /
              steps,
          static_cast<double>(after.collectives - before.collectives) / steps,
          static_cast<double>(after.bytes_sent - before.bytes_sent) / steps,
          static_cast<double>(after.bytes_received - before.bytes_received) / steps, loss);
    }
  }

  // Seed-parallel: n-SPSA with one direction per rank, whole batch each.
  {
    mezo::SeedParallel sp(comm);
    mezo::NSpsa opt({.lr = 1e-6f, .eps = 1e-3f}, comm.size(), perturbation);
    std::vector<double> all(static_cast<std::size_t>(o.batch));
    const auto loss = [&] {
      shard_losses(0, o.batch, all);
      return mezo::mean_loss(all);
    };
    sp.step(model.params(), opt, loss, 12345);  // warm-up
    comm.barrier("benchmark start");
    const mezo::TrafficCounters before = comm.traffic();
    const auto t0 = clock_type::now();
    for (int t = 0; t < o.steps; ++t)
      sp.step(model.params(), opt, loss, static_cast<std::uint64_t>(t));
    const double total = seconds_since(t0);
    const mezo::TrafficCounters after = comm.traffic();
    if (root) {
      const double steps = o.steps;
      std::printf(
          "seed-parallel (n-SPSA, %d directions/step): %.1f ms/step, %.2f collectives/step, %.0f "
          "bytes sent + %.0f received per step by rank 0\n",
          comm.size(), 1e3 * total / steps,
          static_cast<double>(after.collectives - before.collectives) / steps,
          static_cast<double>(after.bytes_sent - before.bytes_sent) / steps,
          static_cast<double>(after.bytes_received - before.bytes_received) / steps);
    }
  }

  // The communication floor: one loss all-gather alone, all ranks ready.
  {
    mezo::DataParallel dp(comm);
    const mezo::Shard shard = dp.shard(o.batch);
    std::vector<double> losses(static_cast<std::size_t>(shard.size()), 0.5);
    constexpr int kRounds = 2000;
    comm.barrier("latency start");
    const auto t0 = clock_type::now();
    for (int i = 0; i < kRounds; ++i) dp.global_mean(o.batch, losses, 1);
    const double total = seconds_since(t0);
    if (root) {
      std::printf("loss all-gather alone: %.1f us per call (%d calls)\n", 1e6 * total / kRounds,
                  kRounds);
    }
  }
  return 0;
}
