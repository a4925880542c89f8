#include "mezo/seed_schedule.hpp"

#include "mezo/counter_rng.hpp"

MEZO_BEGIN_NAMESPACE

// Mixing the step through a bijection before combining keeps neighbouring
// steps (and neighbouring run seeds) from producing related seeds.
std::uint64_t SeedSchedule::seed_for_step(std::int64_t step) const {
  return rng::mix64(run_seed_ ^ rng::mix64(static_cast<std::uint64_t>(step)));
}

MEZO_END_NAMESPACE
