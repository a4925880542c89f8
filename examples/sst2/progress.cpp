#include "progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace sst2 {
namespace {
std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  }
  return buf;
}
}  // namespace

Progress::Progress(std::int64_t first_step, std::int64_t total_steps, std::int64_t every)
    : first_(first_step),
      total_(total_steps),
      every_(every > 0 ? every : 1),
      terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

double Progress::steps_per_second() const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
}

void Progress::update(std::int64_t step, float loss, std::optional<double> dev_accuracy,
                      double zero_grad_fraction) {
  done_ = step + 1 - first_;
  if (dev_accuracy) dev_ = dev_accuracy;
  const bool last = step + 1 == total_;
  if (!terminal_ && (step + 1) % every_ != 0 && !last && !dev_accuracy) return;
  const double rate = steps_per_second();
  const double eta = rate > 0 ? static_cast<double>(total_ - step - 1) / rate : 0.0;
  char dev[32] = "-";
  if (dev_) std::snprintf(dev, sizeof dev, "%.1f%%", 100.0 * *dev_);
  if (terminal_) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(kWidth * (step + 1) / total_);
    std::fprintf(stderr, "\r[%s%s] %lld/%lld %.2f step/s ETA %s loss %.4f dev %s g=0 %.0f%%  ",
                 std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
                 static_cast<long long>(step + 1), static_cast<long long>(total_), rate,
                 clock_text(eta).c_str(), loss, dev, 100.0 * zero_grad_fraction);
  } else {
    std::fprintf(stderr, "step %lld/%lld  %.2f step/s  ETA %s  loss %.4f  dev %s  g=0 %.0f%%\n",
                 static_cast<long long>(step + 1), static_cast<long long>(total_), rate,
                 clock_text(eta).c_str(), loss, dev, 100.0 * zero_grad_fraction);
  }
  std::fflush(stderr);
}

void Progress::finish() {
  if (terminal_) std::fputc('\n', stderr);
}

}  // namespace sst2
