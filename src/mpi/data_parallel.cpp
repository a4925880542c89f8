// Data-parallel MeZO: replicas, shards, and one all-gather of per-example
// losses per forward.
//
// Why per-example losses and not an MPI_Allreduce of (sum, count): a
// reduction's association order depends on the number of ranks and on the MPI
// implementation, so the loss would change in its last bits with the rank
// count, and a run resumed on a different number of ranks would leave the
// trajectory it was on. Gathering the terms and summing them on every rank in
// global example order gives exactly mean_loss() of the whole batch, as one
// process computes it. The cost is 8 bytes per example per forward.
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <exception>

#include "mezo/distributed.hpp"
#include "mezo/error.hpp"
#include "mezo/objective.hpp"
#include "mpi/unaligned_load.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

using mpi_detail::load;

// Each rank's block: this header, then its shard's losses (doubles).
struct LossHeader {
  std::uint64_t tag;      // the step seed: ranks must agree
  std::int64_t examples;  // the global batch size: ranks must agree
  std::uint64_t failed;   // 1: this rank's loss function threw
};
static_assert(sizeof(LossHeader) == 24);

}  // namespace

Shard shard_of(std::int64_t examples, int rank, int ranks) {
  if (examples < 0 || ranks < 1 || rank < 0 || rank >= ranks) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("shard_of: need examples >= 0 and 0 <= rank < ranks, got examples {}, "
                            "rank {}, ranks {}",
                            examples, rank, ranks));
  }
  const std::int64_t base = examples / ranks, extra = examples % ranks;
  const std::int64_t begin = rank * base + std::min<std::int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

DataParallel::DataParallel(Communicator& communicator) : comm_(communicator) {}

Shard DataParallel::shard(std::int64_t examples) const {
  return shard_of(examples, comm_.rank(), comm_.size());
}

float DataParallel::global_mean(std::int64_t examples, std::span<const double> shard_losses,
                                std::uint64_t tag) {
  return gather_mean(examples, shard_losses, tag, false);
}

float DataParallel::gather_mean(std::int64_t examples, std::span<const double> losses,
                                std::uint64_t tag, bool failed) {
  const int ranks = comm_.size(), me = comm_.rank();
  if (examples < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("DataParallel: a batch needs at least one example, got {}", examples));
  }
  const Shard mine = shard(examples);
  if (static_cast<std::int64_t>(losses.size()) != mine.size()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("DataParallel: rank {} has {} losses for its shard [{}, {}) of {} "
                            "examples",
                            me, losses.size(), mine.begin, mine.end, examples));
  }
  std::vector<std::size_t> sizes(static_cast<std::size_t>(ranks));
  std::size_t total = 0;
  for (int r = 0; r < ranks; ++r) {
    sizes[static_cast<std::size_t>(r)] =
        sizeof(LossHeader) +
        sizeof(double) * static_cast<std::size_t>(shard_of(examples, r, ranks).size());
    total += sizes[static_cast<std::size_t>(r)];
  }
  const LossHeader header{tag, examples, failed ? 1u : 0u};
  send_.resize(sizes[static_cast<std::size_t>(me)]);
  std::memcpy(send_.data(), &header, sizeof header);
  if (!losses.empty()) {
    std::memcpy(send_.data() + sizeof header, losses.data(), losses.size_bytes());
  }
  receive_.resize(total);
  comm_.all_gather(send_, sizes, receive_, "data-parallel loss all-gather");

  std::vector<double> all;
  all.reserve(static_cast<std::size_t>(examples));
  const std::byte* p = receive_.data();
  int failed_rank = -1;
  for (int r = 0; r < ranks; ++r) {
    const auto h = load<LossHeader>(p);
    if (h.tag != tag || h.examples != examples) {
      throw Error(ErrorCode::distributed,
                  fmt::format("DataParallel: rank {} is at step seed {} with {} examples, rank {} "
                              "at step seed {} with {}: data-parallel ranks must run the same "
                              "steps on the same global batch size",
                              r, h.tag, h.examples, me, tag, examples));
    }
    if (h.failed != 0 && failed_rank < 0) failed_rank = r;
    const std::size_t n = (sizes[static_cast<std::size_t>(r)] - sizeof h) / sizeof(double);
    for (std::size_t i = 0; i < n; ++i) {
      all.push_back(load<double>(p + sizeof h + i * sizeof(double)));
    }
    p += sizes[static_cast<std::size_t>(r)];
  }
  if (failed) return std::nanf("");  // the caller rethrows its own exception
  if (failed_rank >= 0) {
    throw Error(ErrorCode::distributed,
                fmt::format("DataParallel: the loss function of rank {} threw on its shard, so "
                            "rank {} stops this step too (weights restored)",
                            failed_rank, me));
  }
  return mean_loss(all);
}

StepResult DataParallel::step(const ParamSet& params, Optimizer& optimizer, std::int64_t examples,
                              const ShardLossFunction& loss, std::uint64_t seed,
                              const StepOptions& options) {
  if (!loss) throw Error(ErrorCode::invalid_argument, "DataParallel::step: empty loss function");
  if (examples < 1) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("DataParallel::step: a batch needs at least one example, got {}", examples));
  }
  const Shard mine = shard(examples);
  std::vector<double> losses(static_cast<std::size_t>(mine.size()));
  const LossFunction global_loss = [&]() -> float {
    std::exception_ptr error;
    try {
      if (mine.size() > 0) loss(mine, losses);
    } catch (...) {
      error = std::current_exception();
    }
    // Every rank joins the exchange even when its own loss threw, so that
    // the others learn of it instead of waiting for their deadline.
    const float mean = gather_mean(examples, losses, seed, error != nullptr);
    if (error) std::rethrow_exception(error);
    return mean;
  };
  return mezo::step(params, optimizer, global_loss, seed, options);
}

std::uint64_t DataParallel::check_replicas(const ParamSet& params) {
  const std::uint64_t hash = weights_checksum(params);
  const std::vector<std::int64_t> all =
      comm_.all_gather(static_cast<std::int64_t>(hash), "replica checksum all-gather");
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (static_cast<std::uint64_t>(all[r]) != hash) {
      throw Error(ErrorCode::distributed,
                  fmt::format("DataParallel: the replicas differ: rank {}'s weights hash to "
                              "{:016x}, rank {}'s to {:016x}",
                              r, static_cast<std::uint64_t>(all[r]), comm_.rank(), hash));
    }
  }
  return hash;
}

std::uint64_t weights_checksum(const ParamSet& params) {
  constexpr std::uint64_t kPrime = 0x100000001b3ull;
  std::uint64_t hash = 0xcbf29ce484222325ull;
  const auto mix = [&](std::uint64_t word) { hash = (hash ^ word) * kPrime; };
  for (const ParamView& view : params.views()) {
    if (view.device != Device::cpu) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("weights_checksum: view '{}' is in device memory; only host "
                              "weights are hashed",
                              view.name));
    }
    mix(view.size);
    const auto* bytes = static_cast<const std::byte*>(view.data);
    const std::size_t size = view.bytes();
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) mix(load<std::uint64_t>(bytes + i));
    for (; i < size; ++i) mix(static_cast<std::uint64_t>(bytes[i]));
  }
  return hash;
}

MEZO_END_NAMESPACE
