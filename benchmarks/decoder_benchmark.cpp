// CPU decoder forward and MeZO step: tokens/s and achieved GFLOP/s beside an
// Eigen sgemm (and, with oneDNN, a bf16 matmul) measured in the same binary,
// for the SmolLM2-135M, Qwen2.5-0.5B and Llama-3.2-1B shapes (random
// weights), batch 16 × 64 and 16 × 128, in fp32 and bf16 compute
// (mezo::ComputePrecision) side by side; one parameter pass; and the MeZO
// step of each shape at 16 × 64, full-parameter, with LoRA and with prefix
// tuning, in each precision; and SmolLM2's step with each optimizer
// (ZO-SGD, FZOO, AdaMeZO) against its forwards' time.
// The loss is the SST-2 prompt's: the LM head at the last position of each
// row for two label ids, cross-entropy. See docs/benchmarks.md.
//
//   decoder_benchmark [--compute=fp32,bf16] [Google Benchmark flags]
//
// --compute lists the precisions to measure (default both).
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "decoder_shapes.hpp"
#include "mezo/mezo.hpp"
#include "mezo/model/causal_lm.hpp"
#include "sgemm_baseline.hpp"
#if MEZO_BENCH_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

using mezo::ComputePrecision;

// One model alive at a time (the 1B shape is 5 GB), rebuilt when the shape,
// precision or PEFT mode changes; benchmarks of one model are registered
// next to each other.
enum class Peft { none, lora, prefix };
mezo::CausalLM& model(int shape, ComputePrecision compute, Peft peft = Peft::none) {
  static std::unique_ptr<mezo::CausalLM> current;
  static std::tuple<int, ComputePrecision, Peft> key{-1, ComputePrecision::fp32, Peft::none};
  if (!current || key != std::tuple{shape, compute, peft}) {
    current.reset();
    current = std::make_unique<mezo::CausalLM>(mezo::CausalLM::random(
        bench::decoder_shape(bench::kDecoderShapes[shape]), 7, {.compute = compute}));
    if (peft == Peft::lora) current->enable_lora({.rank = 8, .alpha = 16.0f, .seed = 1});
    if (peft == Peft::prefix) current->enable_prefix({.tokens = 5, .seed = 1});
    key = {shape, compute, peft};
  }
  return *current;
}

std::string label(int shape, ComputePrecision compute, const char* what = "") {
  return std::string(bench::kDecoderShapes[shape]) + " " + mezo::to_string(compute) + what;
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

// Arguments: shape index, rows, sequence length.
void forward(benchmark::State& state, ComputePrecision compute) {
  const int shape = static_cast<int>(state.range(0));
  mezo::CausalLM& m = model(shape, compute);
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
  state.SetLabel(label(shape, compute));
}

// MeZO steps of the model (full) or its PEFT tensors, two forwards and three
// parameter passes each, on the SST-2 prompt loss, without the restore
// journal (mezo-sst2 --no-exact-restore), at mezo-sst2's --peft defaults
// (LoRA r 8, α 16 on q and v; a 5-token prefix).
void step(benchmark::State& state, ComputePrecision compute, Peft peft) {
  const int shape = static_cast<int>(state.range(0));
  mezo::CausalLM& m = model(shape, compute, peft);
  const std::int64_t rows = state.range(1), seq = state.range(2);
  const Prompt p = prompt(rows, seq, m.vocab_size());
  std::vector<float> logits(p.queries.size() * 2);
  const mezo::CrossEntropy ce;
  const auto loss = [&] {
    m.logits(p.tokens, p.queries, bench::kDecoderLabelWords, logits);
    return ce({logits.data(), rows, 2}, p.labels);
  };
  const mezo::ZoSgdConfig options =
      peft == Peft::none   ? mezo::ZoSgdConfig{.lr = 1e-6f, .eps = 1e-3f}
      : peft == Peft::lora ? mezo::ZoSgdConfig{.lr = 1e-4f, .eps = 1e-3f, .weight_decay = 0.1f}
                           : mezo::ZoSgdConfig{.lr = 1e-2f, .eps = 1e-1f};
  mezo::ZoSgd opt(options);
  const mezo::ParamSet& trainable = peft == Peft::none ? m.params() : m.peft_params();
  std::uint64_t seed = 1;
  loss();
  for (auto _ : state)
    benchmark::DoNotOptimize(mezo::step(trainable, opt, loss, seed++, {.exact_restore = false}));
  const char* what[] = {" full", " lora", " prefix"};
  state.SetLabel(label(shape, compute, what[static_cast<int>(peft)]));
}

// One step of each optimizer (mezo-sst2 --optimizer) on the full model at its
// defaults (FZOO N = 8: 9 forwards; AdaMeZO h = 10: 2 forwards and a 10-term
// update), with the restore journal (mezo-sst2's default); ZO-SGD also with
// Rademacher z, whose signs cost a fraction of Gaussian z to regenerate. Each forward is
// timed inside the step itself, so the counters split the step exactly:
// vs_forwards = step time / the time of its own forwards (what the passes
// add, immune to the machine's drift between benchmarks), forward_ms = the
// mean forward.
enum class Method { zo_sgd, zo_sgd_rademacher, fzoo, ada_mezo };
constexpr const char* kMethodNames[] = {"zo-sgd", "zo-sgd-rademacher", "fzoo", "ada-mezo"};

std::unique_ptr<mezo::Optimizer> make_optimizer(Method method) {
  switch (method) {
    case Method::fzoo:
      return std::make_unique<mezo::Fzoo>(mezo::FzooConfig{});
    case Method::ada_mezo:
      return std::make_unique<mezo::AdaMezo>(mezo::AdaMezoConfig{});
    case Method::zo_sgd_rademacher:
      return std::make_unique<mezo::ZoSgd>(mezo::ZoSgdConfig{.lr = 1e-6f, .eps = 1e-3f},
                                           mezo::rademacher_perturbation());
    case Method::zo_sgd:
      break;
  }
  return std::make_unique<mezo::ZoSgd>(mezo::ZoSgdConfig{.lr = 1e-6f, .eps = 1e-3f});
}

void optimizer_step(benchmark::State& state, ComputePrecision compute, Method method) {
  const int shape = static_cast<int>(state.range(0));
  mezo::CausalLM& m = model(shape, compute);
  const std::int64_t rows = state.range(1), seq = state.range(2);
  const Prompt p = prompt(rows, seq, m.vocab_size());
  std::vector<float> logits(p.queries.size() * 2);
  const mezo::CrossEntropy ce;
  using clock = std::chrono::steady_clock;
  double forward_s = 0;  // of the forwards inside the timed steps
  const auto loss = [&] {
    const auto t0 = clock::now();
    m.logits(p.tokens, p.queries, bench::kDecoderLabelWords, logits);
    const float l = ce({logits.data(), rows, 2}, p.labels);
    forward_s += std::chrono::duration<double>(clock::now() - t0).count();
    return l;
  };
  const auto opt = make_optimizer(method);
  loss();  // warm-up
  forward_s = 0;
  std::uint64_t seed = 1;
  double step_s = 0;
  for (auto _ : state) {
    const auto t0 = clock::now();
    benchmark::DoNotOptimize(mezo::step(m.params(), *opt, loss, seed++));
    step_s += std::chrono::duration<double>(clock::now() - t0).count();
  }
  const int forwards = mezo::forwards_per_step(*opt);
  state.counters["forwards"] = forwards;
  state.counters["forward_ms"] = forward_s * 1e3 / double(forwards * state.iterations());
  state.counters["vs_forwards"] = step_s / forward_s;
  state.SetLabel(label(shape, compute, (std::string(" ") + kMethodNames[int(method)]).c_str()));
}

// One parameter pass over the whole model (a step makes three).
void param_pass(benchmark::State& state) {
  mezo::CausalLM& m = model(static_cast<int>(state.range(0)), ComputePrecision::fp32);
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

#if MEZO_BENCH_WITH_ONEDNN
// The bf16 ceiling, as sgemm is fp32's: oneDNN's bf16 matmul (bf16 inputs,
// fp32 result) of two n × n matrices on its own threads.
void bf16_gemm(benchmark::State& state) {
  const dnnl::memory::dim n = state.range(0);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  using tag = dnnl::memory::format_tag;
  const dnnl::memory::desc a({n, n}, dnnl::memory::data_type::bf16, tag::ab);
  const dnnl::memory::desc c({n, n}, dnnl::memory::data_type::f32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, a, c), engine);
  dnnl::memory ma(a, engine), mb(a, engine), mc(c, engine);
  std::memset(ma.get_data_handle(), 0x3f, n * n * 2);  // 0x3f3f: about 0.75
  std::memset(mb.get_data_handle(), 0x3f, n * n * 2);
  dnnl::matmul mm(pd);
  for (auto _ : state) {
    mm.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    stream.wait();
  }
  state.counters["GFLOP_per_s"] =
      benchmark::Counter(2.0 * n * n * n / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(pd.impl_info_str());
}
#endif

// Takes --compute=LIST out of argv; the precisions to measure.
std::vector<ComputePrecision> take_compute_flag(int& argc, char** argv) {
  std::vector<ComputePrecision> chosen = {ComputePrecision::fp32, ComputePrecision::bf16};
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--compute=", 10) != 0) continue;
    chosen.clear();
    std::stringstream list(argv[i] + 10);
    for (std::string name; std::getline(list, name, ',');)
      chosen.push_back(mezo::parse_compute_precision(name));
    for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
    --argc, --i;
  }
  return chosen;
}

void register_all(const std::vector<ComputePrecision>& precisions) {
  for (int n : {512, 1024, 2048})
    benchmark::RegisterBenchmark("BM_Sgemm", bench::BM_Sgemm)
        ->Arg(n)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
#if MEZO_BENCH_WITH_ONEDNN
  for (int n : {1024, 2048})
    benchmark::RegisterBenchmark("BM_Bf16Gemm", bf16_gemm)
        ->Arg(n)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
#endif
  benchmark::RegisterBenchmark("BM_DecoderParamPass", param_pass)
      ->Arg(0)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinTime(2.0);
  for (int shape : {0, 1, 2}) {
    for (ComputePrecision compute : precisions) {
      const std::string suffix = std::string("/") + mezo::to_string(compute);
      auto* f =
          benchmark::RegisterBenchmark(("BM_DecoderForward" + suffix).c_str(), forward, compute)
              ->ArgsProduct({{shape}, {16}, {64, 128}})
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
      if (shape == 0) {
        f->MinTime(2.0);
      } else {
        f->Iterations(1);
      }
      if (shape == 0) {
        for (Method method :
             {Method::zo_sgd, Method::zo_sgd_rademacher, Method::fzoo, Method::ada_mezo}) {
          benchmark::RegisterBenchmark(
              ("BM_DecoderOptimizerStep/" + std::string(kMethodNames[int(method)]) + suffix)
                  .c_str(),
              optimizer_step, compute, method)
              ->Args({shape, 16, 64})
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime()
              ->Iterations(method == Method::fzoo ? 2 : 3);
        }
      }
      for (Peft peft : {Peft::none, Peft::lora, Peft::prefix}) {
        const char* names[] = {"BM_DecoderStep", "BM_DecoderPeftStep/lora",
                               "BM_DecoderPeftStep/prefix"};
        benchmark::RegisterBenchmark((names[static_cast<int>(peft)] + suffix).c_str(), step,
                                     compute, peft)
            ->Args({shape, 16, 64})
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->Iterations(shape == 0 ? 3 : 1);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    register_all(take_compute_flag(argc, argv));
  } catch (const mezo::Error& e) {
    std::fprintf(stderr, "decoder_benchmark: %s\n", e.what());
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
