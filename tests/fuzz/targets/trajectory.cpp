// The trajectory log reader, and appending after a damaged tail. The first
// input byte chooses whether to repair the CRCs before reading: the fuzzer
// cannot forge CRC-32s itself, so without this it would only ever test the
// CRC check and never the fields behind it.
#include <cstring>
#include <string>
#include <vector>

#include "../fuzz_target.hpp"
#include "crc32.hpp"
#include "mezo/fzoo.hpp"
#include "mezo/trajectory.hpp"

namespace {

constexpr std::size_t kHeaderBytes = 40;  // see include/mezo/trajectory.hpp
constexpr std::size_t kRecordBytes = 56;

void put_crc(std::string& bytes, std::size_t begin, std::size_t length) {
  const std::uint32_t crc = mezo::detail::crc32(bytes.data() + begin, length);
  for (int i = 0; i < 4; ++i) bytes[begin + length + i] = static_cast<char>(crc >> (8 * i));
}

}  // namespace

MEZO_FUZZ_TARGET(trajectory) {
  if (size == 0) return 0;
  std::string bytes(as_text(data + 1, size - 1));
  if ((data[0] & 1) != 0 && bytes.size() >= kHeaderBytes) {
    put_crc(bytes, 0, kHeaderBytes - 4);
    for (std::size_t at = kHeaderBytes; at + kRecordBytes <= bytes.size(); at += kRecordBytes) {
      put_crc(bytes, at, kRecordBytes - 4);
    }
  }
  return refuse_quietly([&] {
    const auto path = write_scratch("trajectory.mezotrj", bytes);
    const mezo::Trajectory read = mezo::read_trajectory(path);
    if (read.records.size() > (bytes.size() - kHeaderBytes) / kRecordBytes) {
      throw std::logic_error("read_trajectory returned more records than the file holds");
    }
    // Replaying it, and rebuilding an optimizer from it, give weights or a
    // mezo::Error, never a crash (the records may lie about anything).
    std::vector<float> theta(64, 0.5f);
    mezo::ParamSet params;
    params.add("theta", theta.data(), theta.size());
    const auto perturbation = read.header.perturbation == 2
                                  ? mezo::rademacher_perturbation({.num_threads = 1})
                                  : mezo::gaussian_perturbation({.num_threads = 1});
    try {
      mezo::replay(params, *perturbation, read);
    } catch (const mezo::Error&) {
    }
    try {
      mezo::Fzoo fzoo({.directions = 2}, mezo::rademacher_perturbation({.num_threads = 1}));
      mezo::resume_optimizer(fzoo, read);
    } catch (const mezo::Error&) {
    }
    // A log that reads must also take a new record after its intact ones.
    mezo::TrajectoryRecord record;
    record.step = static_cast<std::int64_t>(read.records.size());
    {
      auto writer = mezo::TrajectoryWriter::open_append(path);
      writer.append({record});
    }
    const mezo::Trajectory after = mezo::read_trajectory(path);
    if (after.damaged_tail || after.records.size() != read.records.size() + 1 ||
        after.records.back().step != record.step) {
      throw std::logic_error("appending to a log that read cleanly lost or damaged records");
    }
  });
}
