// A data-parallel training loop that one rank sabotages, for tests/mpi/faults.sh:
//   mpirun -np N mpi_fault_probe MODE VICTIM_RANK AT_STEP TIMEOUT_S
// MODE stall: the victim stops itself (SIGSTOP) at step AT_STEP; kill: it
// kills itself (SIGKILL); none: nobody does. Like an application would, the
// program prints a mezo::Error and calls MPI_Abort (library code never does).
#include <mpi.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "mezo/distributed.hpp"
#include "mezo/error.hpp"
#include "mezo/objective.hpp"
#include "mezo/optimizer.hpp"

int main(int argc, char** argv) {
  mezo::MpiSession mpi(&argc, &argv);
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s stall|kill|none VICTIM_RANK AT_STEP TIMEOUT_S\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const int victim = std::atoi(argv[2]), at_step = std::atoi(argv[3]);
  const double timeout = std::atof(argv[4]);
  int rank = 0;
  try {
    mezo::Communicator comm = mezo::Communicator::world({.timeout_s = timeout});
    rank = comm.rank();
    mezo::DataParallel dp(comm);
    std::vector<float> w(1000, 0.5f);
    mezo::ParamSet params;
    params.add("w", w.data(), w.size());
    mezo::ZoSgd opt({.lr = 1e-3f, .eps = 1e-3f});
    constexpr int kSteps = 20;
    for (int t = 0; t < kSteps; ++t) {
      if (t == at_step && rank == victim && mode != "none") {
        std::fprintf(stderr, "fault_probe: rank %d: %s at step %d\n", rank,
                     mode == "stall" ? "stopping itself (SIGSTOP)" : "killing itself (SIGKILL)", t);
        if (mode == "stall") std::raise(SIGSTOP);
        if (mode == "kill") std::raise(SIGKILL);
      }
      dp.step(
          params, opt, 8,
          [&](mezo::Shard shard, std::span<double> out) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // "the forward"
            for (std::int64_t i = 0; i < shard.size(); ++i) {
              double s = 0;
              for (float x : w)
                s += static_cast<double>(x) * x * static_cast<double>(shard.begin + i + 1);
              out[static_cast<std::size_t>(i)] = s;
            }
          },
          static_cast<std::uint64_t>(t));
    }
    dp.check_replicas(params);
    std::fprintf(stderr, "fault_probe: rank %d finished %d steps\n", rank, kSteps);
  } catch (const mezo::Error& e) {
    std::fprintf(stderr, "fault_probe: rank %d: error: %s\n", rank, e.what());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 3);
  }
  return 0;
}
