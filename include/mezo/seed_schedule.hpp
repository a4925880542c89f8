// Per-step seeds derived from one run seed: a pure function of (run seed,
// step), so a resumed run draws exactly the seeds the uninterrupted one would.
#pragma once

#include <cstdint>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

class MEZO_API SeedSchedule {
 public:
  explicit SeedSchedule(std::uint64_t run_seed) : run_seed_(run_seed) {}
  std::uint64_t run_seed() const { return run_seed_; }
  std::uint64_t seed_for_step(std::int64_t step) const;

 private:
  std::uint64_t run_seed_;
};

MEZO_END_NAMESPACE
