#include "mezo/trajectory.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <utility>

#include "crc32.hpp"
#include "direction_passes.hpp"
#include "file_io.hpp"
#include "mezo/error.hpp"
#include "mezo/log.hpp"
#include "mezo/step.hpp"

MEZO_BEGIN_NAMESPACE

namespace {

constexpr char kMagic[8] = {'M', 'E', 'Z', 'O', 'T', 'R', 'J', '1'};
constexpr std::uint32_t kVersion = 2;
constexpr std::uint32_t kOldestVersion = 1;  // same layout, no flags above bit 1
constexpr std::size_t kHeaderBytes = 40;
constexpr std::size_t kRecordBytes = 56;

// Little-endian encoding, independent of the host's byte order.
class Encoder {
 public:
  explicit Encoder(unsigned char* out) : out_(out) {}
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void f32(float v) { u32(std::bit_cast<std::uint32_t>(v)); }
  void bytes(const void* p, std::size_t n) {
    std::memcpy(out_ + pos_, p, n);
    pos_ += n;
  }
  std::size_t pos() const { return pos_; }

 private:
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_[pos_++] = static_cast<unsigned char>(v >> (8 * i));
  }
  unsigned char* out_;
  std::size_t pos_ = 0;
};

class Decoder {
 public:
  explicit Decoder(const unsigned char* in) : in_(in) {}
  std::uint16_t u16() { return static_cast<std::uint16_t>(get(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() { return get(8); }
  float f32() { return std::bit_cast<float>(u32()); }
  void skip(std::size_t n) { pos_ += n; }

 private:
  std::uint64_t get(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(in_[pos_++]) << (8 * i);
    return v;
  }
  const unsigned char* in_;
  std::size_t pos_ = 0;
};

void encode_header(const TrajectoryHeader& h, unsigned char* out) {
  Encoder e(out);
  e.bytes(kMagic, sizeof kMagic);
  e.u32(kVersion);
  e.u32(kRecordBytes);
  e.u32(h.exact_restore ? 1u : 0u);
  e.u32(h.perturbation);
  e.u64(h.run_seed);
  e.u32(0);
  e.u32(detail::crc32(out, e.pos()));
}

TrajectoryHeader decode_header(const std::string& bytes, const std::filesystem::path& path) {
  const auto fail = [&](const std::string& why) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("trajectory log '{}': bad header: {}", path.string(), why));
  };
  if (bytes.size() < kHeaderBytes) {
    fail(fmt::format("file has {} bytes, a header needs {}", bytes.size(), kHeaderBytes));
  }
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  if (std::memcmp(in, kMagic, sizeof kMagic) != 0) fail("not a libmezo trajectory (magic)");
  Decoder d(in + sizeof kMagic);
  const std::uint32_t version = d.u32();
  const std::uint32_t record_bytes = d.u32();
  const std::uint32_t flags = d.u32();
  TrajectoryHeader h;
  h.exact_restore = (flags & 1u) != 0;
  h.perturbation = d.u32();
  h.run_seed = d.u64();
  d.skip(4);
  const std::uint32_t stored_crc = d.u32();
  if (stored_crc != detail::crc32(in, kHeaderBytes - 4)) fail("CRC mismatch");
  if (version < kOldestVersion || version > kVersion) {
    fail(fmt::format("format version {}, this libmezo reads {} to {}", version, kOldestVersion,
                     kVersion));
  }
  if (record_bytes != kRecordBytes) {
    fail(fmt::format("record size {}, expected {}", record_bytes, kRecordBytes));
  }
  return h;
}

void encode_record(const TrajectoryRecord& r, unsigned char* out) {
  Encoder e(out);
  e.u64(static_cast<std::uint64_t>(r.step));
  e.u64(r.seed);
  e.f32(r.eps);
  e.f32(r.lr);
  e.f32(r.projected_grad);
  e.f32(r.coef);
  e.f32(r.decay);
  e.f32(r.loss_plus);
  e.f32(r.loss_minus);
  e.u16(r.direction);
  e.u16(r.directions);
  e.u32(r.flags);
  e.u32(detail::crc32(out, e.pos()));
}

// Returns false if the record's CRC does not match.
bool decode_record(const unsigned char* in, TrajectoryRecord& r) {
  Decoder d(in);
  r.step = static_cast<std::int64_t>(d.u64());
  r.seed = d.u64();
  r.eps = d.f32();
  r.lr = d.f32();
  r.projected_grad = d.f32();
  r.coef = d.f32();
  r.decay = d.f32();
  r.loss_plus = d.f32();
  r.loss_minus = d.f32();
  r.direction = d.u16();
  r.directions = d.u16();
  r.flags = d.u32();
  return d.u32() == detail::crc32(in, kRecordBytes - 4);
}

// Parses a whole file; `valid_bytes` is where the last intact record ends.
Trajectory parse(const std::string& bytes, const std::filesystem::path& path,
                 std::size_t& valid_bytes) {
  Trajectory t;
  t.header = decode_header(bytes, path);
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t offset = kHeaderBytes;
  while (offset + kRecordBytes <= bytes.size()) {
    TrajectoryRecord r;
    if (!decode_record(in + offset, r)) {
      if (offset + 2 * kRecordBytes <= bytes.size()) {
        throw Error(ErrorCode::invalid_format,
                    fmt::format("trajectory log '{}': record {} at byte {} fails its CRC and is "
                                "followed by more data: the log is corrupt, not just cut short",
                                path.string(), t.records.size(), offset));
      }
      t.damaged_tail = fmt::format("record {} at byte {} fails its CRC", t.records.size(), offset);
      break;
    }
    t.records.push_back(r);
    offset += kRecordBytes;
  }
  if (!t.damaged_tail && offset < bytes.size()) {
    t.damaged_tail = fmt::format("{} trailing bytes at byte {} are a partial record",
                                 bytes.size() - offset, offset);
  }
  valid_bytes = offset;
  return t;
}

}  // namespace

std::uint32_t perturbation_id(const Perturbation& perturbation) {
  if (perturbation.name() == "gaussian") return 1;
  if (perturbation.name() == "rademacher") return 2;
  return 0;
}

TrajectoryHeader make_trajectory_header(const Optimizer& optimizer, const StepOptions& options,
                                        std::uint64_t run_seed) {
  return {options.exact_restore, perturbation_id(optimizer.perturbation()), run_seed};
}

std::vector<TrajectoryRecord> records_for_step(std::int64_t step, const StepResult& result) {
  std::vector<TrajectoryRecord> records;
  const bool rejected = result.status != StepStatus::ok;
  const bool one_sided = result.probe_kind == ProbeKind::one_sided;
  const bool at_minus = rejected && !one_sided && !result.estimates.empty() &&
                        std::isfinite(result.estimates.back().loss_plus);
  const std::uint32_t step_flags = (rejected ? TrajectoryRecord::rejected : 0u) |
                                   (at_minus ? TrajectoryRecord::rejected_at_minus : 0u) |
                                   (one_sided ? TrajectoryRecord::one_sided : 0u);
  const auto record = [&](std::size_t index) {
    TrajectoryRecord r;
    r.step = step;
    r.eps = result.eps;
    r.lr = result.update.lr;
    r.decay = result.update.decay;
    r.direction = static_cast<std::uint16_t>(index);
    r.directions = static_cast<std::uint16_t>(result.estimates.size());
    r.flags = step_flags;
    return r;
  };
  if (one_sided && rejected && result.estimates.empty()) {  // ℓ0 was not finite
    TrajectoryRecord r = record(0);
    r.seed = result.seed;
    r.loss_minus = result.loss_minus;
    r.directions = 1;
    r.flags |= TrajectoryRecord::rejected_at_base;
    records.push_back(r);
    return records;
  }
  for (std::size_t i = 0; i < result.estimates.size(); ++i) {
    const SeedEstimate& e = result.estimates[i];
    TrajectoryRecord r = record(i);
    r.seed = e.seed;
    r.projected_grad = e.projected_grad;
    r.coef = i < result.update.terms.size() ? result.update.terms[i].coef : 0.0f;
    r.loss_plus = e.loss_plus;
    r.loss_minus = e.loss_minus;
    records.push_back(r);
  }
  for (std::size_t i = result.estimates.size(); i < result.update.terms.size(); ++i) {
    TrajectoryRecord r = record(i);
    r.seed = result.update.terms[i].seed;
    r.coef = result.update.terms[i].coef;
    r.flags |= TrajectoryRecord::update_only;
    records.push_back(r);
  }
  return records;
}

TrajectoryWriter::TrajectoryWriter(std::filesystem::path path, int fd, TrajectoryHeader header,
                                   std::uint64_t records)
    : path_(std::move(path)), fd_(fd), header_(header), records_(records) {}

TrajectoryWriter TrajectoryWriter::create(const std::filesystem::path& path,
                                          const TrajectoryHeader& header) {
  unsigned char bytes[kHeaderBytes];
  encode_header(header, bytes);
  detail::write_file_atomically(path, bytes, sizeof bytes);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) detail::throw_io_error("open for appending", path);
  return TrajectoryWriter(path, fd, header, 0);
}

TrajectoryWriter TrajectoryWriter::open_append(const std::filesystem::path& path) {
  std::size_t valid_bytes = 0;
  const Trajectory t = parse(detail::read_file(path), path, valid_bytes);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) detail::throw_io_error("open for appending", path);
  if (t.damaged_tail) {
    if (::ftruncate(fd, static_cast<off_t>(valid_bytes)) != 0) {
      ::close(fd);
      detail::throw_io_error("cut the damaged tail of", path);
    }
    log(LogLevel::warning, fmt::format("trajectory log '{}': {}; dropped it and resuming after "
                                       "record {}",
                                       path.string(), *t.damaged_tail, t.records.size()));
  }
  return TrajectoryWriter(path, fd, t.header, t.records.size());
}

TrajectoryWriter::TrajectoryWriter(TrajectoryWriter&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      header_(other.header_),
      records_(other.records_) {}

TrajectoryWriter& TrajectoryWriter::operator=(TrajectoryWriter&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    header_ = other.header_;
    records_ = other.records_;
  }
  return *this;
}

TrajectoryWriter::~TrajectoryWriter() {
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
}

void TrajectoryWriter::append(const std::vector<TrajectoryRecord>& records) {
  if (fd_ < 0) throw Error(ErrorCode::invalid_argument, "TrajectoryWriter: writer was moved from");
  std::vector<unsigned char> bytes(records.size() * kRecordBytes);
  for (std::size_t i = 0; i < records.size(); ++i)
    encode_record(records[i], &bytes[i * kRecordBytes]);
  detail::write_all(fd_, bytes.data(), bytes.size(), path_);
  records_ += records.size();
}

void TrajectoryWriter::append(std::int64_t step, const StepResult& result) {
  if (result.exact_restore != header_.exact_restore) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("trajectory log '{}': step {} ran with exact_restore={} but the log "
                            "was created for exact_restore={}; replay would not reproduce it",
                            path_.string(), step, result.exact_restore, header_.exact_restore));
  }
  append(records_for_step(step, result));
}

void TrajectoryWriter::sync() {
  if (fd_ >= 0) detail::fsync_or_throw(fd_, path_);
}

Trajectory read_trajectory(const std::filesystem::path& path) {
  std::size_t valid_bytes = 0;
  Trajectory t = parse(detail::read_file(path), path, valid_bytes);
  if (t.damaged_tail) {
    log(LogLevel::warning,
        fmt::format("trajectory log '{}': {}; ignored", path.string(), *t.damaged_tail));
  }
  return t;
}

namespace {

// The update a completed step applied, from its records (one per term).
UpdatePlan plan_of(std::span<const TrajectoryRecord> step) {
  UpdatePlan plan{step.back().lr, step.back().decay, {}};
  for (const TrajectoryRecord& r : step) plan.terms.push_back({r.seed, r.coef});
  return plan;
}

bool is_probe(const TrajectoryRecord& r) { return !(r.flags & TrajectoryRecord::update_only); }

// One two-sided step of a run that did not restore exactly: repeat all its
// passes, since their rounding is part of the trained weights.
void replay_two_sided_with_rounding(const ParamSet& params, const Perturbation& perturbation,
                                    std::span<const TrajectoryRecord> step,
                                    std::size_t probes) {
  const TrajectoryRecord& last = step[probes - 1];
  const bool rejected = (last.flags & TrajectoryRecord::rejected) != 0;
  for (std::size_t i = 0; i < probes; ++i) {
    detail::DirectionPasses passes(params, perturbation, step[i].seed, step[i].eps, nullptr);
    const bool is_last = i + 1 == probes;
    passes.to_plus();
    if (is_last && rejected && !(last.flags & TrajectoryRecord::rejected_at_minus)) {
      passes.restore_from_plus();
      return;
    }
    passes.plus_to_minus();
    if (is_last && rejected) {
      passes.restore_from_minus();
      return;
    }
    if (!is_last) {
      passes.restore_from_minus();
    } else {
      passes.restore_from_minus_and_update(plan_of(step));
    }
  }
}

// The same for a one-sided step: probe after probe, then back (and update).
void replay_one_sided_with_rounding(const ParamSet& params, const Perturbation& perturbation,
                                    std::span<const TrajectoryRecord> step,
                                    std::size_t probes) {
  if (step.front().flags & TrajectoryRecord::rejected_at_base) return;  // no pass ran
  detail::OneSidedPasses passes(params, perturbation, step.front().eps, nullptr);
  for (std::size_t i = 0; i < probes; ++i) passes.to_probe(step[i].seed);
  if (step.front().flags & TrajectoryRecord::rejected) {
    passes.restore();
  } else {
    passes.restore_and_update(plan_of(step));
  }
}

}  // namespace

void replay(const ParamSet& params, const Perturbation& perturbation,
            const Trajectory& trajectory) {
  const std::uint32_t id = perturbation_id(perturbation);
  if (trajectory.header.perturbation != 0 && id != trajectory.header.perturbation) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("replay: the log was written with perturbation id {}, but '{}' was "
                            "given",
                            trajectory.header.perturbation, perturbation.name()));
  }
  const auto& records = trajectory.records;
  std::size_t i = 0;
  while (i < records.size()) {
    const std::size_t count = records[i].directions;
    const bool rejected = (records[i].flags & TrajectoryRecord::rejected) != 0;
    // A rejected step stops at the failing direction, so it may have fewer.
    std::size_t end = i;
    while (end < records.size() && records[end].step == records[i].step) ++end;
    const std::span<const TrajectoryRecord> step(records.data() + i, end - i);
    const std::size_t probes = static_cast<std::size_t>(std::count_if(
        step.begin(), step.end(), is_probe));
    const bool probes_first = std::is_partitioned(step.begin(), step.end(), is_probe);
    if (count == 0 || probes == 0 || probes > count || (!rejected && probes != count) ||
        !probes_first) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("replay: step {} has {} probe records{} but says it probed {} "
                              "directions",
                              records[i].step, probes,
                              probes_first ? "" : " (not all before its update-only records)",
                              count));
    }
    if (!trajectory.header.exact_restore) {
      if (records[i].flags & TrajectoryRecord::one_sided) {
        replay_one_sided_with_rounding(params, perturbation, step, probes);
      } else {
        replay_two_sided_with_rounding(params, perturbation, step, probes);
      }
    } else if (!rejected) {
      // θ is exactly where the step's probes left it (restored bit-exactly):
      // the update alone, as mezo::step's last pass applies it.
      apply_update(params, perturbation, plan_of(step));
    }
    i = end;
  }
}

void resume_optimizer(Optimizer& optimizer, const Trajectory& trajectory) {
  const auto& records = trajectory.records;
  std::vector<SeedEstimate> estimates;
  for (std::size_t i = 0; i < records.size();) {
    std::size_t end = i;
    while (end < records.size() && records[end].step == records[i].step) ++end;
    const std::span<const TrajectoryRecord> step(records.data() + i, end - i);
    i = end;
    if (step.front().flags & TrajectoryRecord::rejected) continue;  // the optimizer never saw it
    estimates.clear();
    for (const TrajectoryRecord& r : step) {
      if (is_probe(r)) estimates.push_back({r.seed, r.loss_plus, r.loss_minus, r.projected_grad});
    }
    const UpdatePlan plan = optimizer.plan_update(estimates);
    const UpdatePlan logged = plan_of(step);
    bool same = plan.terms.size() == logged.terms.size() &&
                std::bit_cast<std::uint32_t>(plan.decay) ==
                    std::bit_cast<std::uint32_t>(logged.decay);
    for (std::size_t t = 0; same && t < plan.terms.size(); ++t) {
      same = plan.terms[t].seed == logged.terms[t].seed &&
             std::bit_cast<std::uint32_t>(plan.terms[t].coef) ==
                 std::bit_cast<std::uint32_t>(logged.terms[t].coef);
    }
    if (!same) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("resume_optimizer: at step {} the optimizer plans {} term(s), "
                              "the first with coefficient {}, where the log holds {} with {}: it "
                              "is not the run's optimizer, or not with the run's options",
                              step.front().step, plan.terms.size(),
                              plan.terms.empty() ? 0.0f : plan.terms.front().coef,
                              logged.terms.size(), logged.terms.front().coef));
    }
  }
}

MEZO_END_NAMESPACE
