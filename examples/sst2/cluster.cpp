#include "cluster.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <memory>

#include "mezo/error.hpp"

#if MEZO_SST2_WITH_MPI
#include <mpi.h>

#include "mezo/distributed.hpp"
#endif

namespace sst2 {
namespace {

std::FILE* error_stream = stderr;

#if MEZO_SST2_WITH_MPI
struct Job {
  mezo::MpiSession session;  // declared first: finalised last
  mezo::Communicator comm;
  mezo::DataParallel data_parallel;
  Job(int* argc, char*** argv, double timeout_s)
      : session(argc, argv),
        comm(mezo::Communicator::world({.timeout_s = timeout_s})),
        data_parallel(comm) {}
};
std::unique_ptr<Job> job;
#endif

// Ranks other than 0 keep quiet: their stdout and stderr go to /dev/null,
// and only their errors reach the real stderr.
[[maybe_unused]] void silence_this_rank() {  // unused without MPI
  const int saved = dup(STDERR_FILENO);
  const int null = open("/dev/null", O_WRONLY);
  if (saved < 0 || null < 0) return;
  std::fflush(stdout);
  std::fflush(stderr);
  dup2(null, STDOUT_FILENO);
  dup2(null, STDERR_FILENO);
  close(null);
  if (std::FILE* f = fdopen(saved, "w")) error_stream = f;
}

}  // namespace

void Cluster::start([[maybe_unused]] int* argc, [[maybe_unused]] char*** argv,
                    [[maybe_unused]] double timeout_s) {
#if MEZO_SST2_WITH_MPI
  if (!mezo::launched_by_mpi() || job) return;
  job = std::make_unique<Job>(argc, argv, timeout_s);
  if (job->comm.rank() != 0) silence_this_rank();
  if (job->comm.size() > 1) {
    std::fprintf(stderr, "data-parallel run on %d MPI ranks (rank 0 writes and prints)\n",
                 job->comm.size());
  }
#endif
}

int Cluster::rank() {
#if MEZO_SST2_WITH_MPI
  if (job) return job->comm.rank();
#endif
  return 0;
}

int Cluster::size() {
#if MEZO_SST2_WITH_MPI
  if (job) return job->comm.size();
#endif
  return 1;
}

std::FILE* Cluster::errors() { return error_stream; }

void Cluster::abort_job([[maybe_unused]] int status) {
#if MEZO_SST2_WITH_MPI
  if (job && job->comm.size() > 1) {
    std::fflush(nullptr);
    MPI_Abort(MPI_COMM_WORLD, status);
  }
#endif
}

void Cluster::barrier([[maybe_unused]] const char* what) {
#if MEZO_SST2_WITH_MPI
  if (job) job->comm.barrier(what);
#endif
}

std::int64_t Cluster::sum(std::int64_t value, [[maybe_unused]] const char* what) {
#if MEZO_SST2_WITH_MPI
  if (job) {
    std::int64_t total = 0;
    for (const std::int64_t v : job->comm.all_gather(value, what)) total += v;
    return total;
  }
#endif
  return value;
}

void Cluster::sum(std::span<double> values, [[maybe_unused]] const char* what) {
#if MEZO_SST2_WITH_MPI
  if (job) {
    const std::size_t ranks = static_cast<std::size_t>(size());
    const std::vector<std::size_t> sizes(ranks, values.size_bytes());
    std::vector<double> all(values.size() * ranks);
    job->comm.all_gather(std::as_bytes(values), sizes, std::as_writable_bytes(std::span(all)),
                         what);
    for (std::size_t i = 0; i < values.size(); ++i) {
      double total = 0.0;  // in rank order: the same sum on every rank
      for (std::size_t r = 0; r < ranks; ++r) total += all[r * values.size() + i];
      values[i] = total;
    }
  }
#endif
}

mezo::StepResult Cluster::data_parallel_step(const mezo::ParamSet& params,
                                             mezo::Optimizer& optimizer, std::int64_t examples,
                                             const ShardLosses& shard_losses, std::uint64_t seed,
                                             const mezo::StepOptions& options) {
#if MEZO_SST2_WITH_MPI
  if (job) {
    return job->data_parallel.step(
        params, optimizer, examples,
        [&](mezo::Shard shard, std::span<double> losses) {
          shard_losses(shard.begin, shard.end, losses);
        },
        seed, options);
  }
#endif
  (void)params, (void)optimizer, (void)examples, (void)shard_losses, (void)seed, (void)options;
  throw mezo::Error(mezo::ErrorCode::internal,
                    "Cluster::data_parallel_step called outside an MPI job");
}

void Cluster::check_replicas([[maybe_unused]] const mezo::ParamSet& params) {
#if MEZO_SST2_WITH_MPI
  if (job) job->data_parallel.check_replicas(params);
#endif
}

}  // namespace sst2
