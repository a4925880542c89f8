// Parameter-efficient MeZO step time: full-parameter vs LoRA (r = 8, α = 16
// on query and value) vs prefix tuning (5 tokens, real-activation init) on a
// RoBERTa-base-shaped random model, batch 16 × 64 tokens, prompt head (MLM
// logits of two label words at one position per row). For each mode: the
// whole mezo::step (exact restore on, the default), one forward (a step runs
// two) and one parameter pass over the trainable set (a step runs three).
// See docs/benchmarks.md for the command line and the recorded figures.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "mezo/mezo.hpp"
#include "mezo/model/masked_lm.hpp"
#include "roberta_shapes.hpp"

namespace {

const char* kModes[] = {"full", "lora", "prefix"};


// One model, kept for the mode's three benchmarks, rebuilt when the mode
// changes (only one 500 MB model alive at a time).
struct Setup {
  int mode = -1;
  std::unique_ptr<mezo::MaskedLM> model;
  const mezo::ParamSet* trainable = nullptr;
};

Setup& setup(int mode) {
  static Setup s;
  if (s.mode != mode) {
    s.model.reset();
    s.model = std::make_unique<mezo::MaskedLM>(mezo::MaskedLM::random(bench::roberta_base(), 7));
    if (mode == 1) s.model->enable_lora({.rank = 8, .alpha = 16, .seed = 1});
    if (mode == 2) s.model->enable_prefix({.tokens = 5, .seed = 1});
    s.trainable = mode == 0 ? &s.model->params() : &s.model->peft_params();
    s.mode = mode;
  }
  return s;
}


const std::vector<std::int32_t> kLabelWords = {6587, 372};

void label(benchmark::State& state, const Setup& s) {
  state.counters["trainable"] = double(s.trainable->num_elements());
  state.SetLabel(kModes[s.mode]);
}

void BM_PeftStep(benchmark::State& state) {
  Setup& s = setup(static_cast<int>(state.range(0)));
  const bench::PromptBatch b = bench::prompt_batch(16, 64);
  std::vector<float> logits(b.queries.size() * kLabelWords.size());
  const mezo::CrossEntropy ce;
  const auto loss = [&] {
    s.model->mlm_logits(b.tokens, b.queries, kLabelWords, logits);
    return ce({logits.data(), 16, 2}, b.labels);
  };
  mezo::ZoSgd opt({.lr = 1e-6f, .eps = 1e-3f});
  std::uint64_t seed = 1;
  loss();
  for (auto _ : state) benchmark::DoNotOptimize(mezo::step(*s.trainable, opt, loss, seed++));
  label(state, s);
}

void BM_PeftForward(benchmark::State& state) {
  Setup& s = setup(static_cast<int>(state.range(0)));
  const bench::PromptBatch b = bench::prompt_batch(16, 64);
  std::vector<float> logits(b.queries.size() * kLabelWords.size());
  s.model->mlm_logits(b.tokens, b.queries, kLabelWords, logits);
  for (auto _ : state) {
    s.model->mlm_logits(b.tokens, b.queries, kLabelWords, logits);
    benchmark::DoNotOptimize(logits.data());
  }
  label(state, s);
}

void BM_PeftParamPass(benchmark::State& state) {
  Setup& s = setup(static_cast<int>(state.range(0)));
  const auto perturbation = mezo::gaussian_perturbation();
  std::uint64_t seed = 1;
  for (auto _ : state) {
    mezo::perturb_inplace(*s.trainable, *perturbation, seed, (seed & 1) ? 1e-3f : -1e-3f);
    ++seed;
  }
  label(state, s);
}

}  // namespace

// Per mode: forward, pass, then the step (the order keeps one model alive).
#define MEZO_PEFT_BENCHMARKS(mode)    \
  BENCHMARK(BM_PeftForward)           \
      ->Arg(mode)                     \
      ->Unit(benchmark::kMillisecond) \
      ->UseRealTime()                 \
      ->Iterations(3);                \
  BENCHMARK(BM_PeftParamPass)         \
      ->Arg(mode)                     \
      ->Unit(benchmark::kMillisecond) \
      ->UseRealTime()                 \
      ->MinTime(1.0);                 \
  BENCHMARK(BM_PeftStep)->Arg(mode)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3)
MEZO_PEFT_BENCHMARKS(0);
MEZO_PEFT_BENCHMARKS(1);
MEZO_PEFT_BENCHMARKS(2);

BENCHMARK_MAIN();
