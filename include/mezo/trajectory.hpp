// The trajectory log: everything a MeZO run did to its weights, in a few dozen
// bytes per step. Replaying it onto the initial weights reproduces the trained
// weights bit for bit, so a checkpoint is this log plus a reference to the
// initial weights.
//
// File format (all integers and floats little-endian; this comment is its specification):
//   header, 40 bytes:
//     char[8]  magic "MEZOTRJ1"
//     u32      format version (2; version 1 files, which have no flags above
//              bit 1, are read too)
//     u32      record size in bytes (56)
//     u32      flags: bit 0 = the run restored exactly (StepOptions::exact_restore)
//     u32      perturbation: 1 = gaussian, 2 = rademacher, 0 = other
//     u64      run seed (informational)
//     u32      reserved, 0
//     u32      CRC-32 of the preceding 36 bytes
//   then one 56-byte record per probed direction, followed by one per
//   update-only term (UpdatePlan: a term along an earlier step's seed):
//     u64 step, u64 seed, f32 eps, f32 lr, f32 projected_grad,
//     f32 coef (what z was scaled by in the update), f32 decay (η·λ),
//     f32 loss_plus, f32 loss_minus (one-sided: ℓ0), u16 direction (the term's
//     index), u16 directions probed in the step,
//     u32 flags (bit 0: step rejected, bit 1: rejected at ℓ−, bit 2: one-sided
//     probes, bit 3: update-only term, bit 4: rejected at ℓ0 — one record,
//     seed = the step's seed),
//     u32 CRC-32 of the preceding 52 bytes.
// A file is created whole (temp file, fsync, rename); records are appended
// whole, one write per step, so a crash can leave at most one partial or
// corrupt record at the end. Readers detect it by size and CRC and report it;
// they never use it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mezo/config.hpp"
#include "mezo/perturbation.hpp"
#include "mezo/step.hpp"

MEZO_BEGIN_NAMESPACE

struct TrajectoryHeader {
  bool exact_restore = true;
  std::uint32_t perturbation = 0;  // 1 gaussian, 2 rademacher, 0 other
  std::uint64_t run_seed = 0;
};

struct TrajectoryRecord {
  std::int64_t step = 0;
  std::uint64_t seed = 0;
  float eps = 0.0f;
  float lr = 0.0f;
  float projected_grad = 0.0f;
  float coef = 0.0f;
  float decay = 0.0f;
  float loss_plus = 0.0f;
  float loss_minus = 0.0f;
  std::uint16_t direction = 0;
  std::uint16_t directions = 1;
  std::uint32_t flags = 0;

  static constexpr std::uint32_t rejected = 1u;
  static constexpr std::uint32_t rejected_at_minus = 2u;
  static constexpr std::uint32_t one_sided = 4u;
  static constexpr std::uint32_t update_only = 8u;
  static constexpr std::uint32_t rejected_at_base = 16u;
};

// The header value for a perturbation, from its name().
MEZO_API std::uint32_t perturbation_id(const Perturbation& perturbation);

// The header for a run of `optimizer` stepped with `options`.
MEZO_API TrajectoryHeader make_trajectory_header(const Optimizer& optimizer,
                                                 const StepOptions& options,
                                                 std::uint64_t run_seed);

// The records describing one step's result: one per probed direction, then
// one per update-only term (one record for a one-sided step rejected at ℓ0).
// `step` is the caller's step index (the one its SeedSchedule was asked for);
// it counts rejected steps too, unlike Optimizer::step_count().
MEZO_API std::vector<TrajectoryRecord> records_for_step(std::int64_t step,
                                                        const StepResult& result);

class MEZO_API TrajectoryWriter {
 public:
  // Creates `path` atomically with just a header, replacing any file there.
  static TrajectoryWriter create(const std::filesystem::path& path, const TrajectoryHeader& header);
  // Opens an existing log to append to. A partial or corrupt final record (a
  // crash mid-append) is cut off and reported through the log sink; damage
  // anywhere else is an error.
  static TrajectoryWriter open_append(const std::filesystem::path& path);

  TrajectoryWriter(TrajectoryWriter&& other) noexcept;
  TrajectoryWriter& operator=(TrajectoryWriter&& other) noexcept;
  TrajectoryWriter(const TrajectoryWriter&) = delete;
  TrajectoryWriter& operator=(const TrajectoryWriter&) = delete;
  ~TrajectoryWriter();  // syncs and closes

  const TrajectoryHeader& header() const { return header_; }
  std::uint64_t records_written() const { return records_; }

  // Appends the records of one step in a single write.
  void append(const std::vector<TrajectoryRecord>& records);
  // Appends records_for_step(step, result), after checking that the result's
  // restore mode is the one the header declares (replay depends on it).
  void append(std::int64_t step, const StepResult& result);
  // fsyncs what was appended so far (append alone leaves it to the OS).
  void sync();

 private:
  TrajectoryWriter(std::filesystem::path path, int fd, TrajectoryHeader header,
                   std::uint64_t records);
  std::filesystem::path path_;
  int fd_ = -1;
  TrajectoryHeader header_;
  std::uint64_t records_ = 0;
};

struct Trajectory {
  TrajectoryHeader header;
  std::vector<TrajectoryRecord> records;
  // Set when the file ended in a partial or corrupt record, which was ignored.
  std::optional<std::string> damaged_tail;
};

// Reads a whole log. Throws mezo::Error (naming the file and byte offset) for a
// missing file, a bad header, or damage before the final record.
MEZO_API Trajectory read_trajectory(const std::filesystem::path& path);

// Applies the updates of `trajectory` to `params`, which must hold the run's
// initial weights, enumerated as in the run. `perturbation` must be the run's.
// Records of rejected steps are replayed too when the run did not restore
// exactly, because their rounding left a trace in θ.
MEZO_API void replay(const ParamSet& params, const Perturbation& perturbation,
                     const Trajectory& trajectory);

// Brings a freshly made `optimizer` (the run's, with the run's options) to
// the state it had after the log's last step, for resuming: plan_update is
// called again with each completed step's estimates, in order, so a step
// counter, a schedule's position and a history of past seeds (AdaMeZO) all
// come back. Each plan is checked against the logged update bit for bit;
// throws mezo::Error(invalid_argument) naming the step where they differ (the
// optimizer or its options are not the run's).
MEZO_API void resume_optimizer(Optimizer& optimizer, const Trajectory& trajectory);

MEZO_END_NAMESPACE
