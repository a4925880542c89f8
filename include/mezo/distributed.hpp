// Distributed MeZO over MPI (the mezo::mpi library target, built when CMake
// finds MPI; see docs/distributed.md). Two ways to use several processes:
//
// - DataParallel: every rank holds a replica of θ and evaluates its shard of
//   each batch; all ranks use the same seed. The only traffic is the shards'
//   per-example losses (8 bytes per example, twice per step), never weights
//   or gradients. Every rank sums them in global example order, so all ranks
//   get the same loss, apply the same update and stay bit-identical — and the
//   loss is the very number one process computes on the whole batch whenever
//   an example's loss does not depend on which other examples share its
//   forward (see docs/distributed.md for batched matrix products).
// - SeedParallel: n-SPSA across ranks. Rank r probes its own directions on
//   the whole batch; the ranks all-gather (seed, projected gradient) pairs and
//   every rank applies all of them in direction order: bit-identical to one
//   process running NSpsa with the same step seeds.
//
// Every collective waits at most CommunicatorOptions::timeout_s: a rank that
// died or stalls makes the others throw mezo::Error naming the wait, instead
// of hanging. The application decides what to do then (typically print and
// MPI_Abort); the communicator is unusable afterwards.
//
// This header does not include <mpi.h>; mezo/distributed_mpi.hpp adds
// Communicator::from_mpi for an application's own MPI_Comm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"
#include "mezo/optimizer.hpp"
#include "mezo/params.hpp"
#include "mezo/step.hpp"

MEZO_BEGIN_NAMESPACE

struct CommunicatorOptions {
  // How long one collective may wait for the other ranks before this rank
  // gives up with a mezo::Error. Must cover the slowest rank's forward pass.
  double timeout_s = 120.0;
};

// Payload bytes and collectives of one rank, for measuring what a step costs.
struct TrafficCounters {
  std::uint64_t collectives = 0;
  std::uint64_t bytes_sent = 0;      // this rank's contributions
  std::uint64_t bytes_received = 0;  // the other ranks' contributions it received
};

// An MPI communicator with deadlines. Collectives are nonblocking MPI calls
// polled until they complete or the deadline passes; on a timeout the
// communicator is marked failed and every later call throws at once.
class MEZO_API Communicator {
 public:
  // A duplicate of MPI_COMM_WORLD, so libmezo's messages never match the
  // application's. MPI must be initialised (MPI_Init or MpiSession).
  static Communicator world(CommunicatorOptions options = {});
  // A duplicate of the communicator whose language-neutral MPI handle
  // (MPI_Comm_c2f) is `handle`, so this header needs no <mpi.h>: call
  // communicator_from_mpi (mezo/distributed_mpi.hpp) with the MPI_Comm itself.
  static Communicator from_mpi_handle(std::int64_t handle, CommunicatorOptions options = {});
  Communicator(Communicator&&) noexcept;
  Communicator& operator=(Communicator&&) noexcept;
  ~Communicator();

  int rank() const;
  int size() const;
  const CommunicatorOptions& options() const;
  const TrafficCounters& traffic() const;

  // Blocks of possibly different sizes, one per rank, concatenated in rank
  // order into every rank's `out`; sizes[r] is rank r's block size in bytes
  // and must be the same on every rank. `what` names the exchange in errors.
  void all_gather(std::span<const std::byte> block, std::span<const std::size_t> sizes,
                  std::span<std::byte> out, std::string_view what);
  // Every rank's value, in rank order.
  std::vector<std::int64_t> all_gather(std::int64_t value, std::string_view what);
  void barrier(std::string_view what);

 private:
  struct Impl;  // the MPI state (src/mpi/communicator.cpp)
  explicit Communicator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Initialises MPI (MPI_THREAD_FUNNELED) unless it already is, and finalises it
// on destruction if it initialised it. Without a launcher (mpirun) MPI runs as
// a single process.
class MEZO_API MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
  bool finalize_ = false;
};

// True when this process was started by an MPI launcher (mpirun, srun, ...),
// judged from the environment without initialising MPI.
MEZO_API bool launched_by_mpi();

// Rank `rank`'s part of `examples` examples: a contiguous range, the first
// (examples mod ranks) ranks one example larger. Empty when examples < ranks.
struct Shard {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t size() const { return end - begin; }
};
MEZO_API Shard shard_of(std::int64_t examples, int rank, int ranks);

// Fills `losses` with the per-example losses (Objective::example_losses) of
// examples [shard.begin, shard.end) of the global batch, evaluated at the
// current (perturbed) θ, in order.
using ShardLossFunction = std::function<void(Shard shard, std::span<double> losses)>;

class MEZO_API DataParallel {
 public:
  // The communicator must outlive this object.
  explicit DataParallel(Communicator& communicator);

  Communicator& communicator() const { return comm_; }
  Shard shard(std::int64_t examples) const;

  // mezo::step on a global batch of `examples` examples, each rank evaluating
  // its shard. Every rank must call it with the same seed, examples, optimizer
  // state and θ; the result (losses, status, update) is the same on all ranks.
  // - The loss is mean_loss() of all examples' losses in global order: the
  //   same bits for any number of ranks, given the same per-example losses.
  // - A NaN on any rank's shard makes the loss NaN everywhere: every rank
  //   rejects the step (StepStatus::nonfinite_loss) with θ restored.
  // - `loss` throwing on one rank: that rank rethrows its exception, the
  //   others throw mezo::Error naming it; θ restored on all.
  // - Ranks passing different seeds or batch sizes: mezo::Error on all.
  StepResult step(const ParamSet& params, Optimizer& optimizer, std::int64_t examples,
                  const ShardLossFunction& loss, std::uint64_t seed,
                  const StepOptions& options = {});

  // The collective inside step(), for evaluating a global loss outside a
  // step: every rank passes its shard's losses and gets mean_loss() of the
  // whole batch. `tag` (e.g. the step seed) must agree across ranks.
  float global_mean(std::int64_t examples, std::span<const double> shard_losses,
                    std::uint64_t tag = 0);

  // Throws mezo::Error unless every rank's θ is bit-identical (a 64-bit hash
  // of the bytes is compared); returns the hash. Host memory only.
  std::uint64_t check_replicas(const ParamSet& params);

 private:
  float gather_mean(std::int64_t examples, std::span<const double> losses, std::uint64_t tag,
                    bool failed);
  Communicator& comm_;
  std::vector<std::byte> send_, receive_;
};

class MEZO_API SeedParallel {
 public:
  explicit SeedParallel(Communicator& communicator);

  Communicator& communicator() const { return comm_; }
  // The directions of a step rank `rank` probes: d = rank, rank + ranks, ...
  static std::vector<int> directions_of(int directions, int rank, int ranks);

  // One n-SPSA step across ranks, n = optimizer.directions_per_step() (which
  // must be >= the number of ranks). Direction d has seed direction_seed(seed,
  // d) and is probed by rank d mod ranks on the batch `loss` evaluates; then
  // every rank applies the update of all n estimates. The result — weights,
  // StepResult, rejection of a non-finite loss — is bit-identical to
  // mezo::step(params, optimizer, loss, seed) in one process.
  // Needs options.exact_restore (otherwise each rank's θ would keep its own
  // rounding and the replicas would drift apart): mezo::Error if off. Needs a
  // two-sided optimizer: one-sided probes (FZOO) share one ℓ0 and one σ
  // across the step's directions, so they are refused with
  // mezo::Error(unsupported); data parallelism (DataParallel) runs them.
  StepResult step(const ParamSet& params, Optimizer& optimizer, const LossFunction& loss,
                  std::uint64_t seed, const StepOptions& options = {});

 private:
  Communicator& comm_;
  std::vector<std::byte> send_, receive_;
};

// A 64-bit hash (FNV-1a over 8-byte words) of θ's bytes, in view order.
MEZO_API std::uint64_t weights_checksum(const ParamSet& params);

MEZO_END_NAMESPACE
