// The processes of a mezo-sst2 run: one, or an MPI job when started by mpirun
// (and built with MPI, i.e. with mezo::mpi). In a job, training is
// data-parallel (mezo::DataParallel): every rank holds the model, the global
// batch of a step is drawn from the run seed as in one process, and rank r
// scores its shard of it; evaluation chunks are spread over the ranks. Only
// rank 0 writes the run folder and prints; the other ranks print only their
// errors. Without mpirun nothing here changes what a run does.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <span>

#include "mezo/objective.hpp"
#include "mezo/step.hpp"

namespace sst2 {

class Cluster {
 public:
  // Joins the MPI job when this process was launched by mpirun; waits at most
  // `timeout_s` for the other ranks in any exchange. Call once.
  static void start(int* argc, char*** argv, double timeout_s);
  static int rank();
  static int size();
  static bool root() { return rank() == 0; }
  static bool distributed() { return size() > 1; }

  // Where this rank's error messages go (stderr; on ranks other than 0
  // stdout and stderr are silenced, and this is the saved stderr).
  static std::FILE* errors();
  // After an error: ends the whole job (MPI_Abort) when distributed, so no
  // rank waits for one that gave up. Returns otherwise.
  static void abort_job(int status);

  static void barrier(const char* what);
  static std::int64_t sum(std::int64_t value, const char* what);
  // Element-wise sum over the ranks of equally long vectors, in place.
  static void sum(std::span<double> values, const char* what);

  // mezo::step on the global batch; in a job, rank r evaluates only examples
  // [begin, end) of it through `shard_losses` (per-example losses).
  using ShardLosses =
      std::function<void(std::int64_t begin, std::int64_t end, std::span<double> losses)>;
  static mezo::StepResult data_parallel_step(const mezo::ParamSet& params,
                                             mezo::Optimizer& optimizer, std::int64_t examples,
                                             const ShardLosses& shard_losses, std::uint64_t seed,
                                             const mezo::StepOptions& options);
  // Throws unless every rank's weights are bit-identical (no-op in one process).
  static void check_replicas(const mezo::ParamSet& params);
};

}  // namespace sst2
