// CPU decoder forward and MeZO step: tokens/s and achieved GFLOP/s beside an
// Eigen sgemm measured in the same binary, for the SmolLM2-135M, Qwen2.5-0.5B
// and Llama-3.2-1B shapes (random weights), batch 16 × 64 and 16 × 128; the
// MeZO step on SmolLM2, split into forward time and parameter-pass time; and
// its step with LoRA and with prefix tuning.
// The loss is the SST-2 prompt's: the LM head at the last position of each
// row for two label ids, cross-entropy. See docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "decoder_shapes.hpp"
#include "mezo/mezo.hpp"
#include "mezo/model/causal_lm.hpp"
#include "sgemm_baseline.hpp"

namespace {

// One model per shape, built on first use and kept (the 1B shape is 5 GB).
mezo::CausalLM& model(int shape_index) {
  static std::map<int, std::unique_ptr<mezo::CausalLM>> models;
  auto& m = models[shape_index];
  if (!m) {
    m = std::make_unique<mezo::CausalLM>(
        mezo::CausalLM::random(bench::decoder_shape(bench::kDecoderShapes[shape_index]), 7));
  }
  return *m;
}

struct Prompt {
  mezo::TokenBatch tokens;
  std::vector<mezo::TokenQuery> queries;
  std::vector<std::int32_t> labels;
};

Prompt prompt(std::int64_t rows, std::int64_t seq, std::int64_t vocab) {
  Prompt p{bench::decoder_random_batch(rows, seq, vocab), {}, {}};
  for (std::int64_t r = 0; r < rows; ++r)
    p.queries.push_back({r, seq - 1}), p.labels.push_back(std::int32_t(r % 2));
  return p;
}

void BM_DecoderForward(benchmark::State& state) {
  mezo::CausalLM& m = model(static_cast<int>(state.range(0)));
  const std::int64_t rows = state.range(1), seq = state.range(2);
  const Prompt p = prompt(rows, seq, m.vocab_size());
  std::vector<float> logits(p.queries.size() * 2);
  m.logits(p.tokens, p.queries, bench::kDecoderLabelWords, logits);  // warm-up: sizes the buffers
  for (auto _ : state) {
    m.logits(p.tokens, p.queries, bench::kDecoderLabelWords, logits);
    benchmark::DoNotOptimize(logits.data());
  }
  const double flops = bench::decoder_forward_flops(m.config(), double(rows), double(seq));
  state.counters["tokens_per_s"] =
      benchmark::Counter(double(rows * seq), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP_per_s"] =
      benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(bench::kDecoderShapes[state.range(0)]);
}

// MeZO steps of `trainable` (two forwards, three parameter passes) on the
// SST-2 prompt loss, without the restore journal (mezo-sst2 --no-exact-restore).
void run_steps(benchmark::State& state, mezo::CausalLM& m, const mezo::ParamSet& trainable,
               const mezo::ZoSgdConfig& options) {
  const std::int64_t rows = state.range(1), seq = state.range(2);
  const Prompt p = prompt(rows, seq, m.vocab_size());
  std::vector<float> logits(p.queries.size() * 2);
  const mezo::CrossEntropy ce;
  const auto loss = [&] {
    m.logits(p.tokens, p.queries, bench::kDecoderLabelWords, logits);
    return ce({logits.data(), rows, 2}, p.labels);
  };
  mezo::ZoSgd opt(options);
  std::uint64_t seed = 1;
  loss();
  for (auto _ : state)
    benchmark::DoNotOptimize(mezo::step(trainable, opt, loss, seed++, {.exact_restore = false}));
}

// The whole model.
void BM_DecoderStep(benchmark::State& state) {
  mezo::CausalLM& m = model(static_cast<int>(state.range(0)));
  run_steps(state, m, m.params(), {.lr = 1e-6f, .eps = 1e-3f});
  state.SetLabel(bench::kDecoderShapes[state.range(0)]);
}

// LoRA (r 8, α 16 on q and v) or a 5-token prefix, at mezo-sst2's --peft
// defaults, on a model of its own (adapters stay on the model they enable).
void BM_DecoderPeftStep(benchmark::State& state, bool lora) {
  const int shape = static_cast<int>(state.range(0));
  mezo::CausalLM m = mezo::CausalLM::random(bench::decoder_shape(bench::kDecoderShapes[shape]), 7);
  if (lora) {
    m.enable_lora({.rank = 8, .alpha = 16.0f, .seed = 1});
  } else {
    m.enable_prefix({.tokens = 5, .seed = 1});
  }
  run_steps(state, m, m.peft_params(),
            lora ? mezo::ZoSgdConfig{.lr = 1e-4f, .eps = 1e-3f, .weight_decay = 0.1f}
                 : mezo::ZoSgdConfig{.lr = 1e-2f, .eps = 1e-1f});
  state.SetLabel(std::string(bench::kDecoderShapes[shape]) + (lora ? " lora" : " prefix"));
}

// One parameter pass over the whole model (a step makes three).
void BM_DecoderParamPass(benchmark::State& state) {
  mezo::CausalLM& m = model(static_cast<int>(state.range(0)));
  const auto perturbation = mezo::gaussian_perturbation();
  std::uint64_t seed = 1;
  for (auto _ : state) {
    mezo::perturb_inplace(m.params(), *perturbation, seed, (seed & 1) ? 1e-3f : -1e-3f);
    ++seed;
  }
  state.counters["elements_per_s"] = benchmark::Counter(
      double(m.params().num_elements()), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(bench::kDecoderShapes[state.range(0)]);
}

}  // namespace

BENCHMARK(bench::BM_Sgemm)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_DecoderForward)
    ->ArgsProduct({{0}, {16}, {64, 128}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);
BENCHMARK(BM_DecoderForward)
    ->ArgsProduct({{1, 2}, {16}, {64, 128}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK(BM_DecoderParamPass)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_DecoderStep)
    ->Args({0, 16, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_DecoderPeftStep, lora, true)
    ->Args({0, 16, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_DecoderPeftStep, prefix, false)
    ->Args({0, 16, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

BENCHMARK_MAIN();
