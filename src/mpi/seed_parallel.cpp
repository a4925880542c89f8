// Seed-parallel MeZO: n-SPSA whose directions are probed on different ranks.
//
// Why this equals one process bit for bit: with exact restore, mezo::step's
// fused last pass (restore from −εz, journal, decay, update terms) first
// brings every element back to exactly θ, then applies the decay and the
// terms in direction order. Here each rank probes its directions with
// probe_direction (θ restored exactly after each), the estimates are
// gathered, put in direction order, given to the same Optimizer::plan_update,
// and apply_update does the decay and the terms on exactly θ: the same
// operations on the same values, each rounded to fp32 on its own.
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <exception>

#include "mezo/distributed.hpp"
#include "mezo/error.hpp"
#include "mpi/unaligned_load.hpp"
#include "step_outcome.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

using mpi_detail::load;

struct ProbeHeader {
  std::uint64_t step_seed;  // ranks must agree
  std::int64_t directions;  // ranks must agree
  std::uint64_t failed;     // 1: this rank's loss function threw
};

enum class ProbeState : std::uint32_t { probed = 0, nonfinite = 1, skipped = 2 };

struct ProbeRecord {
  std::uint64_t seed;
  float loss_plus, loss_minus, projected_grad;
  ProbeState state;
};
static_assert(sizeof(ProbeHeader) == 24 && sizeof(ProbeRecord) == 24);

}  // namespace

SeedParallel::SeedParallel(Communicator& communicator) : comm_(communicator) {}

std::vector<int> SeedParallel::directions_of(int directions, int rank, int ranks) {
  std::vector<int> out;
  for (int d = rank; d < directions; d += ranks) out.push_back(d);
  return out;
}

StepResult SeedParallel::step(const ParamSet& params, Optimizer& optimizer,
                              const LossFunction& loss, std::uint64_t seed,
                              const StepOptions& options) {
  const int ranks = comm_.size(), me = comm_.rank();
  const int n = optimizer.directions_per_step();
  if (params.empty()) {
    throw Error(ErrorCode::invalid_argument, "SeedParallel::step: the parameter set is empty");
  }
  if (!loss) throw Error(ErrorCode::invalid_argument, "SeedParallel::step: empty loss function");
  if (!options.exact_restore) {
    throw Error(ErrorCode::invalid_argument,
                "SeedParallel::step needs StepOptions::exact_restore: without it each rank's "
                "weights keep their own rounding from their own directions and the replicas "
                "drift apart");
  }
  if (optimizer.probe_kind() != ProbeKind::two_sided) {
    throw Error(ErrorCode::unsupported,
                "SeedParallel::step probes two-sided directions one per rank; this optimizer "
                "probes one-sided (one unperturbed loss and one spread for all its "
                "directions): train it with DataParallel or in one process");
  }
  if (n < ranks) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("SeedParallel::step: {} direction(s) per step for {} ranks would leave "
                            "ranks idle; use n-SPSA with at least one direction per rank",
                            n, ranks));
  }
  const float eps = optimizer.eps();

  // Probe this rank's directions, in order, until one is non-finite (the
  // directions after it cannot matter: the step is rejected at the first).
  const std::vector<int> mine = directions_of(n, me, ranks);
  std::vector<ProbeRecord> records(mine.size(),
                                   ProbeRecord{0, 0.0f, 0.0f, 0.0f, ProbeState::skipped});
  std::exception_ptr error;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    const std::uint64_t s = direction_seed(seed, mine[i]);
    records[i].seed = s;
    try {
      const SeedEstimate e =
          probe_direction(params, optimizer.perturbation(), eps, loss, s, options);
      const bool finite = std::isfinite(e.loss_plus) && std::isfinite(e.loss_minus);
      records[i] = {s, e.loss_plus, e.loss_minus, e.projected_grad,
                    finite ? ProbeState::probed : ProbeState::nonfinite};
      if (!finite) break;
    } catch (...) {
      error = std::current_exception();
      break;
    }
  }

  // Exchange: every rank learns every (seed, ℓ+, ℓ−, g).
  std::vector<std::size_t> sizes(static_cast<std::size_t>(ranks));
  std::size_t total = 0;
  for (int r = 0; r < ranks; ++r) {
    sizes[static_cast<std::size_t>(r)] =
        sizeof(ProbeHeader) + sizeof(ProbeRecord) * directions_of(n, r, ranks).size();
    total += sizes[static_cast<std::size_t>(r)];
  }
  const ProbeHeader header{seed, n, error ? 1u : 0u};
  send_.resize(sizes[static_cast<std::size_t>(me)]);
  std::memcpy(send_.data(), &header, sizeof header);
  if (!records.empty()) {
    std::memcpy(send_.data() + sizeof header, records.data(), records.size() * sizeof(ProbeRecord));
  }
  receive_.resize(total);
  comm_.all_gather(send_, sizes, receive_, "seed-parallel estimate all-gather");
  if (error) std::rethrow_exception(error);

  std::vector<ProbeRecord> all(static_cast<std::size_t>(n));
  const std::byte* p = receive_.data();
  for (int r = 0; r < ranks; ++r) {
    const auto h = load<ProbeHeader>(p);
    if (h.step_seed != seed || h.directions != n) {
      throw Error(ErrorCode::distributed,
                  fmt::format("SeedParallel: rank {} is at step seed {} with {} directions, rank "
                              "{} at step seed {} with {}: ranks must run the same steps",
                              r, h.step_seed, h.directions, me, seed, n));
    }
    if (h.failed != 0) {
      throw Error(ErrorCode::distributed,
                  fmt::format("SeedParallel: the loss function of rank {} threw, so rank {} stops "
                              "this step too (weights restored)",
                              r, me));
    }
    const std::vector<int> theirs = directions_of(n, r, ranks);
    for (std::size_t i = 0; i < theirs.size(); ++i) {
      all[static_cast<std::size_t>(theirs[i])] =
          load<ProbeRecord>(p + sizeof h + i * sizeof(ProbeRecord));
    }
    p += sizes[static_cast<std::size_t>(r)];
  }

  // From here on every rank computes the same thing from the same records,
  // exactly as mezo::step does after its probes.
  StepResult result;
  result.seed = seed;
  result.eps = eps;
  result.exact_restore = true;
  for (int d = 0; d < n; ++d) {
    const ProbeRecord& rec = all[static_cast<std::size_t>(d)];
    if (rec.seed != direction_seed(seed, d) || rec.state == ProbeState::skipped) {
      throw Error(ErrorCode::internal,
                  fmt::format("SeedParallel: direction {} came back with seed {} (expected {}) "
                              "and state {}",
                              d, rec.seed, direction_seed(seed, d), static_cast<int>(rec.state)));
    }
    result.estimates.push_back({rec.seed, rec.loss_plus, rec.loss_minus, rec.projected_grad});
    if (rec.state == ProbeState::nonfinite) {
      const bool plus = !std::isfinite(rec.loss_plus);
      return detail::rejected_for_loss(std::move(result), d, plus ? "loss_plus" : "loss_minus",
                                       plus ? rec.loss_plus : rec.loss_minus);
    }
  }
  // probe_direction left θ restored: nothing to undo if the plan is refused.
  if (!detail::plan_update(optimizer, result, [] {})) return result;
  apply_update(params, optimizer.perturbation(), result.update);
  return detail::completed(std::move(result));
}

MEZO_END_NAMESPACE
