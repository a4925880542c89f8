// CPU perturbation pass: libmezo's in-place passes against the memory ceiling
// (std::copy of the same bytes) and the naive std::normal_distribution loop.
//
// Every benchmark moves n fp32 elements and reports
//   items_per_second  elements/s
//   bytes_per_second  8 B per element (read + write; std::copy: read src + write dst)
//   copy_frac         its bytes/s as a fraction of the median std::copy bandwidth
//                     measured at the same n earlier in this run (the copy
//                     benchmarks are registered first; omitted if filtered out).
//                     Both rates use the time the benchmark reports: real time
//                     for the threaded passes, the thread's CPU time otherwise.
//
// Arguments: n (elements) and, where the pass is threaded, threads (the
// ExecutionOptions::num_threads of the perturbation; timed in real time).
// See docs/benchmarks.md for the command line and the recorded figures.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "mezo/ada_mezo.hpp"
#include "mezo/fzoo.hpp"
#include "mezo/optimizer.hpp"
#include "mezo/params.hpp"
#include "mezo/perturbation.hpp"
#include "mezo/step.hpp"

namespace {

constexpr std::int64_t kSizes[] = {100'000, 10'000'000, 100'000'000};
constexpr int kThreads[] = {1, 2};
constexpr double kBytesPerElement = 8.0;  // one fp32 read + one fp32 write
constexpr double kMinTime = 0.3;          // seconds per benchmark (per repetition)

// Buffers are allocated and touched once per size and shared by every
// benchmark, so no run pays for page faults inside its timed loop.
std::vector<float>& buffer(std::int64_t n, int which = 0) {
  static std::map<std::pair<std::int64_t, int>, std::vector<float>> buffers;
  auto& v = buffers[{n, which}];
  if (v.empty()) {
    v.resize(static_cast<std::size_t>(n));
    std::mt19937 gen(1234u + static_cast<unsigned>(which));
    std::uniform_real_distribution<float> dist(-0.1f, 0.1f);
    for (float& x : v) x = dist(gen);
  }
  return v;
}

// std::copy bandwidth (bytes/s) per size, one entry per timed copy run.
std::map<std::int64_t, std::vector<double>>& copy_rates() {
  static std::map<std::int64_t, std::vector<double>> rates;
  return rates;
}

// Times a benchmark's loop the way Google Benchmark reports it: wall time for
// UseRealTime() benchmarks, the calling thread's CPU time otherwise.
class LoopTimer {
 public:
  explicit LoopTimer(bool real_time) : real_time_(real_time), start_(now()) {}
  double seconds() const { return now() - start_; }

 private:
  double now() const {
    if (real_time_) {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
    }
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }
  bool real_time_;
  double start_;
};

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Sets elements/s, bytes/s and copy_frac; returns this run's bytes/s.
double report(benchmark::State& state, std::int64_t n, const LoopTimer& timer) {
  const double seconds = timer.seconds();
  const auto processed = static_cast<std::int64_t>(state.iterations()) * n;
  const double bytes = static_cast<double>(processed) * kBytesPerElement;
  state.SetItemsProcessed(processed);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  const double bytes_per_second = seconds > 0.0 ? bytes / seconds : 0.0;
  auto it = copy_rates().find(n);
  if (it != copy_rates().end() && !it->second.empty()) {
    state.counters["copy_frac"] = bytes_per_second / median(it->second);
  }
  return bytes_per_second;
}

// (b) The memory ceiling: copy n floats to another buffer (n reads + n writes).
void BM_StdCopy(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const std::vector<float>& src = buffer(n, 0);
  std::vector<float>& dst = buffer(n, 1);
  const LoopTimer timer(false);
  for (auto _ : state) {
    std::copy(src.begin(), src.end(), dst.begin());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  const double seconds = timer.seconds();
  const double rate = report(state, n, timer);
  // Only the timed runs count, not Google Benchmark's short calibration runs.
  if (seconds >= 0.5 * kMinTime) copy_rates()[n].push_back(rate);
}

// (c) The naive loop: one std::normal_distribution draw per element.
void BM_NaiveNormalDistribution(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  std::vector<float>& a = buffer(n, 0);
  std::mt19937_64 gen(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const LoopTimer timer(false);
  for (auto _ : state) {
    for (std::int64_t i = 0; i < n; ++i) a[static_cast<std::size_t>(i)] += 1e-3f * normal(gen);
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  }
  report(state, n, timer);
}

// (a) libmezo: θ += 1e-3 · z(seed) over a ParamSet holding one vector.
void perturb(benchmark::State& state,
             std::shared_ptr<const mezo::Perturbation> (*make)(mezo::ExecutionOptions)) {
  const std::int64_t n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  std::vector<float>& theta = buffer(n, 0);
  mezo::ParamSet params;
  params.add("theta", theta.data(), static_cast<std::uint64_t>(n));
  const auto perturbation = make({.num_threads = threads});
  std::uint64_t seed = 0x5eed;
  const LoopTimer timer(true);
  for (auto _ : state) {
    mezo::perturb_inplace(params, *perturbation, seed++, 1e-3f);
    benchmark::ClobberMemory();
  }
  report(state, n, timer);
}

void BM_MezoGaussianPerturb(benchmark::State& state) {
  perturb(state, &mezo::gaussian_perturbation);
}
void BM_MezoRademacherPerturb(benchmark::State& state) {
  perturb(state, &mezo::rademacher_perturbation);
}

// (a) The last pass of a MeZO step: θ − εz → θ (restore) → θ − lr·g·z (one
// update term, same seed, as mezo::step runs it; no journal, no decay). The
// pass generates z once per chunk and applies it twice.
void BM_MezoGaussianRestoreUpdate(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  std::vector<float>& theta = buffer(n, 0);
  mezo::ParamSet params;
  params.add("theta", theta.data(), static_cast<std::uint64_t>(n));
  const auto perturbation = mezo::gaussian_perturbation({.num_threads = threads});
  constexpr float eps = 1e-3f;
  std::uint64_t seed = 0x5eed;
  const LoopTimer timer(true);
  for (auto _ : state) {
    const mezo::ZTerm update{seed, -1e-6f};
    mezo::ParamPass pass;
    pass.restore = mezo::ZTerm{seed, eps};
    pass.terms = {&update, 1};
    perturbation->apply(params, pass);
    benchmark::ClobberMemory();
    ++seed;
  }
  report(state, n, timer);
}

// (a) A journaled probe-to-probe pass, as a one-sided (FZOO) step runs N of
// them: θ + εz_s → θ (restore, with the journal recorded for it) → θ + εz_{s+1},
// recording the elements whose ±εz round trip is lossy. θ ~ N(0, 0.02²), the
// scale of a transformer's weights, so the journal holds what it would in a
// real step (counter "journaled": the fraction of elements).
void journaled_probe(benchmark::State& state,
                     std::shared_ptr<const mezo::Perturbation> (*make)(mezo::ExecutionOptions)) {
  const std::int64_t n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  std::vector<float>& theta = buffer(n, 0);
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (float& x : theta) x = normal(gen);
  mezo::ParamSet params;
  params.add("theta", theta.data(), static_cast<std::uint64_t>(n));
  const auto perturbation = make({.num_threads = threads});
  constexpr float eps = 1e-3f;
  mezo::RestoreJournal journals[2];
  std::uint64_t seed = 0x5eed;
  {
    const mezo::ZTerm first{seed, eps};
    mezo::ParamPass pass;
    pass.terms = {&first, 1};
    pass.record = &journals[0];
    perturbation->apply(params, pass);
  }
  int current = 0;
  const LoopTimer timer(true);
  for (auto _ : state) {
    const mezo::ZTerm next{seed + 1, eps};
    mezo::ParamPass pass;
    pass.restore = mezo::ZTerm{seed, -eps};
    pass.journal = &journals[current];
    pass.terms = {&next, 1};
    pass.record = &journals[1 - current];
    perturbation->apply(params, pass);
    benchmark::ClobberMemory();
    current = 1 - current;
    ++seed;
  }
  report(state, n, timer);
  state.counters["journaled"] = double(journals[current].size()) / double(n);
}

void BM_MezoRademacherJournaledProbe(benchmark::State& state) {
  journaled_probe(state, &mezo::rademacher_perturbation);
}
void BM_MezoGaussianJournaledProbe(benchmark::State& state) {
  journaled_probe(state, &mezo::gaussian_perturbation);
}

// (c) What a whole mezo::step adds to its forwards: each optimizer's step
// (mezo-sst2's defaults and perturbations, exact restore on) with a loss that
// costs nothing, over as many weights as SmolLM2-135M, θ ~ N(0, 0.02²). The
// step's time is then its parameter passes and journals alone; a real step's
// "step / its forwards" ratio is 1 + this / (forwards × one forward's time).
enum class StepMethod { zo_sgd, zo_sgd_rademacher, fzoo, ada_mezo };
constexpr const char* kStepMethodNames[] = {"zo-sgd", "zo-sgd-rademacher", "fzoo", "ada-mezo"};
constexpr std::int64_t kSmolLM2Elements = 134'515'008;

std::unique_ptr<mezo::Optimizer> make_step_optimizer(StepMethod method,
                                                     mezo::ExecutionOptions exec) {
  switch (method) {
    case StepMethod::fzoo:
      return std::make_unique<mezo::Fzoo>(mezo::FzooConfig{}, mezo::rademacher_perturbation(exec));
    case StepMethod::ada_mezo:
      return std::make_unique<mezo::AdaMezo>(mezo::AdaMezoConfig{},
                                             mezo::rademacher_perturbation(exec));
    case StepMethod::zo_sgd_rademacher:
      return std::make_unique<mezo::ZoSgd>(mezo::ZoSgdConfig{},
                                           mezo::rademacher_perturbation(exec));
    case StepMethod::zo_sgd:
      break;
  }
  return std::make_unique<mezo::ZoSgd>(mezo::ZoSgdConfig{}, mezo::gaussian_perturbation(exec));
}

void step_passes(benchmark::State& state, StepMethod method) {
  const std::int64_t n = kSmolLM2Elements;
  const int threads = static_cast<int>(state.range(0));
  static std::vector<float> theta = [] {
    std::vector<float> v(static_cast<std::size_t>(kSmolLM2Elements));
    std::mt19937 gen(5);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    for (float& x : v) x = normal(gen);
    return v;
  }();
  mezo::ParamSet params;
  params.add("theta", theta.data(), static_cast<std::uint64_t>(n));
  const auto optimizer = make_step_optimizer(method, {.num_threads = threads});
  // Losses that differ from probe to probe (FZOO divides by their spread).
  std::uint32_t calls = 0;
  const auto loss = [&] { return 1.0f + 1e-3f * static_cast<float>(++calls % 7); };
  std::uint64_t seed = 1;
  benchmark::DoNotOptimize(mezo::step(params, *optimizer, loss, seed++));  // warm-up
  std::uint64_t journaled = 0;
  for (auto _ : state) {
    const mezo::StepResult r = mezo::step(params, *optimizer, loss, seed++);
    journaled = r.journal_entries;
    benchmark::ClobberMemory();
  }
  state.counters["forwards"] = mezo::forwards_per_step(*optimizer);
  state.counters["journaled"] = double(journaled) / double(n);
  state.SetLabel(kStepMethodNames[static_cast<int>(method)]);
}

// A whole step over 134.5 M weights takes long: 3 steps, 2 threads.
void step_passes_args(benchmark::internal::Benchmark* b) {
  b->ArgName("threads")->Arg(2)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);
}

void single_thread_args(benchmark::internal::Benchmark* b) {
  b->ArgName("n");
  for (std::int64_t n : kSizes) b->Arg(n);
}

void threaded_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "threads"});
  for (std::int64_t n : kSizes) {
    for (int t : kThreads) b->Args({n, t});
  }
}

// Registered in this order so the copy ceiling is known when the others run.
BENCHMARK(BM_StdCopy)->Apply(single_thread_args)->MinTime(kMinTime)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NaiveNormalDistribution)
    ->ArgName("n")
    ->Arg(kSizes[0])
    ->Arg(kSizes[1])
    ->MinTime(kMinTime)
    ->Unit(benchmark::kMillisecond);
// ~2 s per pass at 1e8: one iteration is enough.
BENCHMARK(BM_NaiveNormalDistribution)
    ->ArgName("n")
    ->Arg(kSizes[2])
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MezoGaussianPerturb)
    ->Apply(threaded_args)
    ->MinTime(kMinTime)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MezoRademacherPerturb)
    ->Apply(threaded_args)
    ->MinTime(kMinTime)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MezoGaussianRestoreUpdate)
    ->Apply(threaded_args)
    ->MinTime(kMinTime)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_MezoRademacherJournaledProbe)
    ->Apply(threaded_args)
    ->MinTime(kMinTime)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MezoGaussianJournaledProbe)
    ->Apply(threaded_args)
    ->MinTime(kMinTime)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(step_passes, zo_sgd, StepMethod::zo_sgd)->Apply(step_passes_args);
BENCHMARK_CAPTURE(step_passes, zo_sgd_rademacher, StepMethod::zo_sgd_rademacher)->Apply(step_passes_args);
BENCHMARK_CAPTURE(step_passes, fzoo, StepMethod::fzoo)->Apply(step_passes_args);
BENCHMARK_CAPTURE(step_passes, ada_mezo, StepMethod::ada_mezo)->Apply(step_passes_args);

}  // namespace

BENCHMARK_MAIN();
