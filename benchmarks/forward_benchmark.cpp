// CPU transformer forward and MeZO step: tokens/s and achieved GFLOP/s beside
// an Eigen sgemm measured in the same binary, for three model shapes (tiny,
// RoBERTa-base, RoBERTa-large; random weights), batch 16 and 64, sequence 64
// and 128; and the MeZO step on the base shape, split into forward time and
// parameter-pass time.
//
// FLOPs per forward follow ../shared/guide/PERFORMANCE.md: 2 × non-embedding
// parameters × tokens + 4 × layers × tokens × sequence × hidden (attention),
// plus the MLM head at one position per row (negligible).
// See docs/benchmarks.md for the command line and the recorded figures.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mezo/mezo.hpp"
#include "sgemm_baseline.hpp"
#include "mezo/model/masked_lm.hpp"
#include "roberta_shapes.hpp"

namespace {

mezo::TransformerConfig shape(const std::string& name) {
  if (name == "tiny") return bench::roberta_shape(128, 2, 2, 512);
  return name == "base" ? bench::roberta_base() : bench::roberta_large();
}

const char* kShapes[] = {"tiny", "base", "large"};

// One model per shape, built on first use and kept (large is 1.4 GB).
mezo::MaskedLM& model(int shape_index) {
  static std::map<int, std::unique_ptr<mezo::MaskedLM>> models;
  auto& m = models[shape_index];
  if (!m)
    m = std::make_unique<mezo::MaskedLM>(mezo::MaskedLM::random(shape(kShapes[shape_index]), 7));
  return *m;
}

// The prompt head: one mask position per row, two label words.
const std::vector<std::int32_t> kLabelWords = {6587, 372};

void BM_Forward(benchmark::State& state) {
  mezo::MaskedLM& m = model(static_cast<int>(state.range(0)));
  const std::int64_t rows = state.range(1), seq = state.range(2);
  const auto batch = bench::random_batch(rows, seq);
  std::vector<mezo::MaskQuery> queries;
  for (std::int64_t r = 0; r < rows; ++r) queries.push_back({r, seq - 2});
  std::vector<float> logits(queries.size() * kLabelWords.size());
  m.mlm_logits(batch, queries, kLabelWords, logits);  // warm-up: sizes the workspace
  for (auto _ : state) {
    m.mlm_logits(batch, queries, kLabelWords, logits);
    benchmark::DoNotOptimize(logits.data());
  }
  const double flops = bench::forward_flops(m.config(), double(rows), double(seq));
  state.counters["tokens_per_s"] =
      benchmark::Counter(double(rows * seq), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP_per_s"] =
      benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(kShapes[state.range(0)]);
}


// The MeZO step on one shape: the full step, and its parts measured alone —
// one forward (a step runs two) and one parameter pass (a step runs three).
void BM_MezoStep(benchmark::State& state) {
  mezo::MaskedLM& m = model(static_cast<int>(state.range(0)));
  const std::int64_t rows = state.range(1), seq = state.range(2);
  const auto batch = bench::random_batch(rows, seq);
  std::vector<mezo::MaskQuery> queries;
  std::vector<std::int32_t> labels;
  for (std::int64_t r = 0; r < rows; ++r)
    queries.push_back({r, seq - 2}), labels.push_back(std::int32_t(r % 2));
  std::vector<float> logits(queries.size() * kLabelWords.size());
  const mezo::CrossEntropy ce;
  const auto loss = [&] {
    m.mlm_logits(batch, queries, kLabelWords, logits);
    return ce({logits.data(), rows, 2}, labels);
  };
  mezo::ZoSgd opt({.lr = 1e-6f, .eps = 1e-3f});
  const mezo::StepOptions options{.exact_restore = state.range(3) != 0};
  std::uint64_t seed = 1;
  loss();
  for (auto _ : state) benchmark::DoNotOptimize(mezo::step(m.params(), opt, loss, seed++, options));
  state.SetLabel(std::string(kShapes[state.range(0)]) +
                 (options.exact_restore ? ", exact restore" : ", no journal"));
}

void BM_ParamPass(benchmark::State& state) {
  mezo::MaskedLM& m = model(static_cast<int>(state.range(0)));
  const auto perturbation = mezo::gaussian_perturbation();
  std::uint64_t seed = 1;
  for (auto _ : state) {
    mezo::perturb_inplace(m.params(), *perturbation, seed, (seed & 1) ? 1e-3f : -1e-3f);
    ++seed;
  }
  state.counters["elements_per_s"] =
      benchmark::Counter(double(m.num_parameters()), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(kShapes[state.range(0)]);
}

}  // namespace

BENCHMARK(bench::BM_Sgemm)->Arg(512)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Forward)
    ->ArgsProduct({{0, 1}, {16, 64}, {64, 128}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);
BENCHMARK(BM_Forward)
    ->ArgsProduct({{2}, {16, 64}, {64, 128}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK(BM_ParamPass)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_MezoStep)
    ->Args({1, 16, 64, 1})
    ->Args({1, 16, 64, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

BENCHMARK_MAIN();
