// CUDA benchmarks (issue 5): every figure beside the ceiling it is judged
// against, measured by the same process on the same GPU.
//
//   copy_d2d/DT/n=N      cudaMemcpyAsync device-to-device of N elements of DT
//                        (f32 or bf16): the memory ceiling, GB/s counting
//                        read + write.
//   perturb/Z/DT/n=N     one CounterPerturbation pass (x += alpha·z, Z gaussian
//                        or rademacher) over the same N elements in place,
//                        GB/s counting read + write, and x_copy = its GB/s
//                        over the copy's at the same DT and N (goal >= 0.9).
//   sgemm/4096/M         cublasSgemm 4096³ on a GpuContext's cuBLAS handle,
//                        M = fp32 (plain) or tf32 (allow_tf32): the GEMM ceiling.
//   forward/S/w=DT/M     GpuMaskedLM::mlm_logits on a RoBERTa-S shape (random
//                        weights), batch 64 × 128, one mask position per row,
//                        2 vocabulary ids: tokens/s, TFLOP/s and x_gemm = TFLOP/s
//                        over sgemm/4096/M.
//   update_pass/S/w=DT   one in-place update pass over the model's parameters
//                        through its DeferredPerturbation (what a step writes).
//   step/S/w=DT/M        one whole mezo::step (ZO-SGD, cross-entropy over the 2
//                        label words): ms/step, the two forwards timed inside
//                        the step, the rest (the update pass and the step's own
//                        work), and x_floor = step over the floor of
//                        ../shared/guide/PERFORMANCE.md, built from this
//                        process's sgemm rate and copy bandwidth.
//
// FLOPs per forward (PERFORMANCE.md): 2 × non-embedding parameters × tokens +
// 4 × layers × tokens × sequence × hidden; the MLM head at one position per row
// is negligible and not counted.
//
// The floor of a step counts ONE parameter pass of read + write over every
// trainable element: GpuMaskedLM's probes are virtual (DeferredPerturbation),
// so the only pass a step writes is the update. That is the lowest floor the
// guide's formula gives for libmezo's scheme; the reference PyTorch code makes
// four passes of about twice the traffic each.
//
// --torch_reference=FILE (repeatable) reads the JSON that
// tools/torch_reference_step.py writes (HF RoBERTa on the same GPU, the MeZO
// authors' step) and reports its step time over libmezo's (goal >= 5).
//
// Timing: raw CUDA work (copy, perturbation pass, GEMM) with cudaEvents on the
// stream it runs on, between a record just before the call and one just after
// it (so host launch gaps inside one call are counted); model-level work
// (forward, pass over a model, step) with steady_clock around a call that
// returns synchronised. Each iteration's time goes to Google Benchmark
// (UseManualTime) and to the summary printed at the end, which takes medians
// over every timed iteration of the process.
//
// Without a usable GPU (or with a libmezo built without CUDA) the program says
// so and exits 0 without running anything. tools/gpu_bench.sh runs it;
// docs/benchmarks.md describes the cases and records the figures.
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_context.hpp"  // mezo::cuda::Context (cuda/): the baselines' stream and cuBLAS handle
#include "mezo/mezo.hpp"
#include "mezo/model/gpu_masked_lm.hpp"
#include "roberta_shapes.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorName(status) + ": " +
                             cudaGetErrorString(status));
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + " failed: cuBLAS status " +
                             std::to_string(static_cast<int>(status)));
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// ---------------------------------------------------------------------------
// Results of the whole process, by case name, for the ratios between cases and
// the closing summary. Every timed iteration of every run of a case (Google
// Benchmark's estimation runs and repetitions alike) adds its seconds here.

struct Result {
  std::vector<double> seconds;  // one per timed iteration
  double work = 0;              // bytes (copy, passes) or FLOPs (GEMM, forward) per iteration
  std::map<std::string, std::vector<double>> parts;  // per-iteration sub-timings (a step's forwards)
  double peak_bytes = 0;        // GpuContext high-water mark over the case (model cases)
  double elements = 0;          // trainable elements (model cases)
  double rejected = 0;          // steps mezo::step rejected (non-finite loss)
  double median_s() const { return median(seconds); }
  double rate() const { return work / median_s(); }  // work per second
};

std::map<std::string, Result>& results() {
  static std::map<std::string, Result> r;
  return r;
}

const Result* find_result(const std::string& name) {
  const auto it = results().find(name);
  return it == results().end() || it->second.seconds.empty() ? nullptr : &it->second;
}

// ---------------------------------------------------------------------------
// Device state shared by the cases, released explicitly at the end of main()
// (before the CUDA runtime tears itself down).

struct DeviceBuffer {
  void* data = nullptr;
  std::size_t bytes = 0;
  explicit DeviceBuffer(std::size_t n) : bytes(n) {
    if (cudaMalloc(&data, n) != cudaSuccess) {
      (void)cudaGetLastError();
      std::size_t free = 0, total = 0;
      cudaMemGetInfo(&free, &total);
      throw std::runtime_error("cudaMalloc of " + std::to_string(n >> 20) + " MiB failed (" +
                               std::to_string(free >> 20) + " MiB free)");
    }
    check(cudaMemset(data, 0, n), "cudaMemset");  // zeros: finite values for the passes
    // The memset runs on the legacy default stream, which the contexts'
    // non-blocking streams do not wait for.
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  }
  ~DeviceBuffer() { cudaFree(data); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

// Two events on one stream: the elapsed GPU time of what is enqueued between them.
struct EventTimer {
  cudaEvent_t start = nullptr, stop = nullptr;
  cudaStream_t stream;
  explicit EventTimer(cudaStream_t s) : stream(s) {
    check(cudaEventCreate(&start), "cudaEventCreate");
    check(cudaEventCreate(&stop), "cudaEventCreate");
  }
  ~EventTimer() {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  }
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  template <class F>
  double time(F&& work) {
    check(cudaEventRecord(start, stream), "cudaEventRecord");
    work();
    check(cudaEventRecord(stop, stream), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    return ms * 1e-3;
  }
};

// One model on the device at a time: the cases of one (shape, weights, math)
// run one after the other, and the next group replaces it.
struct Model {
  std::string key;
  mezo::TransformerConfig config;
  std::unique_ptr<mezo::GpuMaskedLM> gpu;
  mezo::GpuContext* context = nullptr;
};

struct Device {
  std::unique_ptr<mezo::GpuContext> context[2];  // [0]: plain fp32 GEMMs, [1]: TF32 allowed
  // The baselines (copy, sgemm) run on the backend's own context class, set
  // up exactly as a GpuContext's (stream, cuBLAS handle, TF32 math mode), but
  // their own: a GpuContext's internals are private to libmezo.
  std::unique_ptr<mezo::cuda::Context> baseline[2];
  std::string cpu_shape;
  std::unique_ptr<mezo::MaskedLM> cpu_model;  // random weights of cpu_shape, uploaded per group
  Model model;
  std::string name;  // the GPU's name, for the summary and the torch reference check
};

Device& device() {
  static Device d;
  return d;
}

mezo::GpuContext& context(bool tf32) {
  auto& c = device().context[tf32 ? 1 : 0];
  if (!c) c = std::make_unique<mezo::GpuContext>(mezo::GpuOptions{.device = 0, .allow_tf32 = tf32});
  return *c;
}

mezo::cuda::Context& baseline_context(bool tf32) {
  auto& c = device().baseline[tf32 ? 1 : 0];
  if (!c) c = std::make_unique<mezo::cuda::Context>(mezo::cuda::ContextOptions{0, tf32});
  return *c;
}

// Runs `body` and turns any exception into a skipped case (Google Benchmark
// itself does not catch), so one failing case does not end the program.
template <class F>
void guarded(benchmark::State& state, F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

std::string dtype_name(mezo::DType t) { return t == mezo::DType::f32 ? "f32" : "bf16"; }
std::string count_name(std::uint64_t n) {
  int e = 0;
  std::uint64_t m = n;
  while (m % 10 == 0 && m > 1) m /= 10, ++e;
  return m == 1 ? "1e" + std::to_string(e) : std::to_string(n);
}

// ---------------------------------------------------------------------------
// (a) Perturbation pass vs device-to-device copy.

std::string copy_key(mezo::DType t, std::uint64_t n) {
  return "copy_d2d/" + dtype_name(t) + "/n=" + count_name(n);
}
std::string perturb_key(mezo::ZDistribution z, mezo::DType t, std::uint64_t n) {
  return std::string("perturb/") + (z == mezo::ZDistribution::gaussian ? "gaussian/" : "rademacher/") +
         dtype_name(t) + "/n=" + count_name(n);
}

// A device-to-device copy of n elements of dtype t, each once() timed by
// events. It moves 2 × n × element size bytes (a read of the source, a write
// of the destination), which is how the passes are counted too.
class CopyRig {
 public:
  CopyRig(mezo::DType t, std::uint64_t n)
      : bytes_(n * mezo::size_of(t)),
        src_(bytes_),
        dst_(bytes_),
        ctx_(baseline_context(false)),
        timer_(ctx_.stream()) {
    once();  // warm-up
  }
  double once() {
    return timer_.time([&] {
      check(cudaMemcpyAsync(dst_.data, src_.data, bytes_, cudaMemcpyDeviceToDevice, ctx_.stream()),
            "cudaMemcpyAsync");
    });
  }

 private:
  std::size_t bytes_;
  DeviceBuffer src_, dst_;
  mezo::cuda::Context& ctx_;
  EventTimer timer_;
};

void BM_CopyD2D(benchmark::State& state, mezo::DType t, std::uint64_t n) {
  guarded(state, [&] {
    CopyRig rig(t, n);
    Result& r = results()[copy_key(t, n)];
    r.work = 2.0 * double(n) * double(mezo::size_of(t));
    for (auto _ : state) {
      const double s = rig.once();
      state.SetIterationTime(s);
      r.seconds.push_back(s);
    }
    state.counters["GB_per_s"] =
        benchmark::Counter(r.work / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  });
}

void BM_Perturb(benchmark::State& state, mezo::ZDistribution z, mezo::DType t, std::uint64_t n) {
  guarded(state, [&] {
    const std::size_t bytes = n * mezo::size_of(t);
    DeviceBuffer buffer(bytes);
    mezo::GpuContext& ctx = context(false);
    mezo::ParamSet params;
    if (t == mezo::DType::f32)
      params.add("x", static_cast<float*>(buffer.data), n, mezo::Device::cuda);
    else
      params.add_bf16("x", static_cast<std::uint16_t*>(buffer.data), n, mezo::Device::cuda);
    const mezo::CounterPerturbation perturbation(z, {.num_threads = 0, .gpu = &ctx});
    // The pass runs on ctx's stream and waits for itself before returning, so
    // events on an idle stream of our own bracket exactly the pass.
    EventTimer timer(baseline_context(false).stream());
    std::uint64_t seed = 1;
    // Alternating signs keep the values near 0 over many iterations.
    const auto pass = [&] {
      mezo::perturb_inplace(params, perturbation, seed, (seed & 1) ? 1e-3f : -1e-3f);
      ++seed;
    };
    timer.time(pass);  // warm-up
    Result& r = results()[perturb_key(z, t, n)];
    r.work = 2.0 * double(bytes);  // read + write of every element
    for (auto _ : state) {
      const double s = timer.time(pass);
      state.SetIterationTime(s);
      r.seconds.push_back(s);
    }
    state.counters["GB_per_s"] =
        benchmark::Counter(r.work / 1e9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["Gelem_per_s"] =
        benchmark::Counter(double(n) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
    if (const Result* copy = find_result(copy_key(t, n))) state.counters["x_copy"] = r.rate() / copy->rate();
  });
}

// ---------------------------------------------------------------------------
// (b) cuBLAS sgemm on a handle set up as a GpuContext's is (its math mode is
// the one the model's GEMMs get: plain fp32, or TF32 with allow_tf32).

constexpr int kGemmN = 4096;
std::string gemm_key(bool tf32) { return std::string("sgemm/4096/") + (tf32 ? "tf32" : "fp32"); }

// C = A·B, all 4096 × 4096 fp32, on the context's handle; each once() timed by events.
class GemmRig {
 public:
  explicit GemmRig(bool tf32)
      : a_(kCount * sizeof(float)),
        b_(kCount * sizeof(float)),
        c_(kCount * sizeof(float)),
        ctx_(baseline_context(tf32)),
        timer_(ctx_.stream()) {
    // Random inputs: tensor cores draw less power (and may clock higher) on zeros.
    std::vector<float> host(kCount);
    std::uint32_t x = 12345;
    for (float& v : host) v = float((x = x * 1664525u + 1013904223u) >> 8) / float(1 << 24) - 0.5f;
    check(cudaMemcpy(a_.data, host.data(), a_.bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaMemcpy(b_.data, host.data(), b_.bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
    once();  // warm-up: cuBLAS picks its kernel on the first call
  }
  double once() {
    const float one = 1.0f, zero = 0.0f;
    return timer_.time([&] {
      check(cublasSgemm(ctx_.cublas(), CUBLAS_OP_N, CUBLAS_OP_N, kGemmN, kGemmN, kGemmN, &one,
                        static_cast<const float*>(a_.data), kGemmN, static_cast<const float*>(b_.data),
                        kGemmN, &zero, static_cast<float*>(c_.data), kGemmN),
            "cublasSgemm");
    });
  }

 private:
  static constexpr std::size_t kCount = std::size_t(kGemmN) * kGemmN;
  DeviceBuffer a_, b_, c_;
  mezo::cuda::Context& ctx_;
  EventTimer timer_;
};

void BM_Sgemm(benchmark::State& state, bool tf32) {
  guarded(state, [&] {
    GemmRig rig(tf32);
    Result& r = results()[gemm_key(tf32)];
    r.work = 2.0 * kGemmN * double(kGemmN) * kGemmN;
    for (auto _ : state) {
      const double s = rig.once();
      state.SetIterationTime(s);
      r.seconds.push_back(s);
    }
    state.counters["TFLOP_per_s"] =
        benchmark::Counter(r.work / 1e12, benchmark::Counter::kIsIterationInvariantRate);
  });
}

// The ceilings the floors and fractions use: the cases' own medians when they
// ran in this process, else measured here on the spot with the same code (so
// `--benchmark_filter=step` still gets a floor).
double copy_bytes_per_s() {
  for (std::uint64_t n : {std::uint64_t(1000000000), std::uint64_t(100000000)})
    if (const Result* r = find_result(copy_key(mezo::DType::f32, n))) return r->rate();
  CopyRig rig(mezo::DType::f32, 1000000000);
  Result& r = results()[copy_key(mezo::DType::f32, 1000000000)];
  r.work = 2.0 * 1e9 * sizeof(float);
  for (int i = 0; i < 20; ++i) r.seconds.push_back(rig.once());
  return r.rate();
}

double gemm_flops_per_s(bool tf32) {
  if (const Result* r = find_result(gemm_key(tf32))) return r->rate();
  GemmRig rig(tf32);
  Result& r = results()[gemm_key(tf32)];
  r.work = 2.0 * kGemmN * double(kGemmN) * kGemmN;
  for (int i = 0; i < 20; ++i) r.seconds.push_back(rig.once());
  return r.rate();
}

// ---------------------------------------------------------------------------
// (c), (d) The model cases.

constexpr std::int64_t kRows = 64, kSeq = 128;
const std::vector<std::int32_t> kLabelWords = {6587, 372};  // the prompt's two label words

std::string model_key(const std::string& shape, mezo::DType w, bool tf32) {
  return shape + "/w=" + dtype_name(w) + "/" + (tf32 ? "tf32" : "fp32");
}

Model& model(const std::string& shape, mezo::DType weights, bool tf32) {
  Device& d = device();
  const std::string key = model_key(shape, weights, tf32);
  if (d.model.key == key) return d.model;
  d.model.gpu.reset();  // one model's weights on the device at a time
  d.model.key.clear();
  if (d.cpu_shape != shape) {
    d.cpu_model.reset();
    d.cpu_model = std::make_unique<mezo::MaskedLM>(
        mezo::MaskedLM::random(shape == "base" ? bench::roberta_base() : bench::roberta_large(), 7));
    d.cpu_shape = shape;
  }
  mezo::GpuContext& ctx = context(tf32);
  d.model.gpu = std::make_unique<mezo::GpuMaskedLM>(*d.cpu_model, ctx,
                                                    mezo::GpuMaskedLMOptions{.weights = weights});
  d.model.config = d.cpu_model->config();
  d.model.context = &ctx;
  d.model.key = key;
  return d.model;
}

void BM_Forward(benchmark::State& state, std::string shape, mezo::DType weights, bool tf32) {
  guarded(state, [&] {
    Model& m = model(shape, weights, tf32);
    const bench::PromptBatch b = bench::prompt_batch(kRows, kSeq);
    std::vector<float> logits(b.queries.size() * kLabelWords.size());
    Result& r = results()["forward/" + model_key(shape, weights, tf32)];
    r.work = bench::forward_flops(m.config, kRows, kSeq);
    r.elements = double(m.gpu->params().num_elements());
    m.gpu->mlm_logits(b.tokens, b.queries, kLabelWords, logits);  // warm-up: sizes the workspace
    m.context->reset_peak();
    for (auto _ : state) {
      const auto t0 = Clock::now();
      m.gpu->mlm_logits(b.tokens, b.queries, kLabelWords, logits);  // returns with the logits on the host
      const double s = seconds_since(t0);
      state.SetIterationTime(s);
      r.seconds.push_back(s);
    }
    r.peak_bytes = std::max(r.peak_bytes, double(m.context->memory().peak_bytes));
    state.counters["tokens_per_s"] =
        benchmark::Counter(double(kRows * kSeq), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["TFLOP_per_s"] =
        benchmark::Counter(r.work / 1e12, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["x_gemm"] = r.rate() / gemm_flops_per_s(tf32);
    state.counters["peak_GB"] = r.peak_bytes / 1e9;
  });
}

// One update pass over the model, as the last pass of a step applies it: a
// non-probe ParamPass with one term through the model's DeferredPerturbation
// (written in place by its CounterPerturbation on the context's stream).
void BM_UpdatePass(benchmark::State& state, std::string shape, mezo::DType weights) {
  guarded(state, [&] {
    Model& m = model(shape, weights, false);
    const auto perturbation = m.gpu->perturbation();
    const mezo::ParamSet& params = m.gpu->params();
    Result& r = results()["update_pass/" + shape + "/w=" + dtype_name(weights)];
    r.elements = double(params.num_elements());
    r.work = 2.0 * r.elements * double(mezo::size_of(weights));
    std::uint64_t seed = 1;
    const auto pass = [&] {
      const mezo::ZTerm term{seed, (seed & 1) ? 1e-6f : -1e-6f};
      mezo::ParamPass p;
      p.terms = std::span<const mezo::ZTerm>(&term, 1);
      perturbation->apply(params, p);
      m.context->synchronize();
      ++seed;
    };
    pass();  // warm-up
    for (auto _ : state) {
      const auto t0 = Clock::now();
      pass();
      const double s = seconds_since(t0);
      state.SetIterationTime(s);
      r.seconds.push_back(s);
    }
    state.counters["GB_per_s"] =
        benchmark::Counter(r.work / 1e9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["x_copy"] = r.rate() / copy_bytes_per_s();
  });
}

// PyTorch reference steps read from --torch_reference files.
struct TorchReference {
  std::string file, model, dtype, device;
  bool tf32 = false;
  double step_ms = 0, forward_ms = 0, passes_ms = 0, peak_bytes = 0;
};

std::vector<TorchReference>& torch_references() {
  static std::vector<TorchReference> r;
  return r;
}

// The reference for a libmezo step: same shape and weight dtype; for fp32 also
// the same math mode (bf16 HF matmuls run in bf16 whatever the TF32 flag says).
const TorchReference* torch_reference(const std::string& shape, mezo::DType w, bool tf32) {
  for (const auto& t : torch_references())
    if (t.model == shape && t.dtype == (w == mezo::DType::f32 ? "fp32" : "bf16") &&
        (w == mezo::DType::bf16 || t.tf32 == tf32))
      return &t;
  return nullptr;
}

struct Floor {
  double gemm_s = 0, pass_s = 0;
  double total() const { return gemm_s + pass_s; }
};

// PERFORMANCE.md's floor: 2 forwards at the sgemm rate of the same math mode,
// plus one read + write pass over every trainable element at the copy bandwidth.
Floor step_floor(const mezo::TransformerConfig& c, double elements, mezo::DType w, bool tf32) {
  Floor f;
  f.gemm_s = 2 * bench::forward_flops(c, kRows, kSeq) / gemm_flops_per_s(tf32);
  f.pass_s = 1 * elements * 2.0 * double(mezo::size_of(w)) / copy_bytes_per_s();
  return f;
}

void BM_Step(benchmark::State& state, std::string shape, mezo::DType weights, bool tf32) {
  guarded(state, [&] {
    Model& m = model(shape, weights, tf32);
    const bench::PromptBatch b = bench::prompt_batch(kRows, kSeq);
    std::vector<float> logits(b.queries.size() * kLabelWords.size());
    const mezo::CrossEntropy ce;
    double forward_s = 0;  // the forwards of the current step, timed inside the loss
    const auto loss = [&] {
      const auto t0 = Clock::now();
      m.gpu->mlm_logits(b.tokens, b.queries, kLabelWords, logits);
      forward_s += seconds_since(t0);
      return ce({logits.data(), kRows, std::int64_t(kLabelWords.size())}, b.labels);
    };
    mezo::ZoSgd optimizer({.lr = 1e-6f, .eps = 1e-3f}, m.gpu->perturbation());
    const mezo::ParamSet& params = m.gpu->params();
    Result& r = results()["step/" + model_key(shape, weights, tf32)];
    r.elements = double(params.num_elements());
    std::uint64_t seed = 1;
    mezo::step(params, optimizer, loss, seed++);  // warm-up
    m.context->synchronize();
    m.context->reset_peak();
    for (auto _ : state) {
      forward_s = 0;
      const auto t0 = Clock::now();
      const mezo::StepResult result = mezo::step(params, optimizer, loss, seed++);
      m.context->synchronize();  // the update pass is complete when this returns
      const double s = seconds_since(t0);
      state.SetIterationTime(s);
      r.seconds.push_back(s);
      r.parts["forwards"].push_back(forward_s);
      r.parts["rest"].push_back(s - forward_s);
      if (result.status != mezo::StepStatus::ok) ++r.rejected;  // no update pass ran: flagged below
    }
    r.peak_bytes = std::max(r.peak_bytes, double(m.context->memory().peak_bytes));
    const Floor floor = step_floor(m.config, r.elements, weights, tf32);
    state.counters["forwards_ms"] = median(r.parts["forwards"]) * 1e3;
    state.counters["rest_ms"] = median(r.parts["rest"]) * 1e3;
    state.counters["floor_ms"] = floor.total() * 1e3;
    state.counters["x_floor"] = r.median_s() / floor.total();
    state.counters["peak_GB"] = r.peak_bytes / 1e9;
    state.counters["rejected"] = r.rejected;
    if (const TorchReference* t = torch_reference(shape, weights, tf32))
      state.counters["x_torch"] = t->step_ms / (r.median_s() * 1e3);
  });
}

// ---------------------------------------------------------------------------
// The summary: the figures the issue asks for, with their ratios.

void print_summary() {
  std::printf("\n== libmezo CUDA benchmark summary: medians over all timed iterations, %s ==\n",
              device().name.c_str());
  std::printf("\n(a) Perturbation pass vs cudaMemcpyAsync D2D (GB/s counting read + write; goal x_copy >= 0.9)\n");
  std::printf("  %-5s %-5s %10s %10s %8s %10s %8s\n", "dtype", "n", "copy", "gaussian", "x_copy",
              "rademacher", "x_copy");
  for (mezo::DType t : {mezo::DType::f32, mezo::DType::bf16})
    for (std::uint64_t n : {std::uint64_t(10000000), std::uint64_t(100000000), std::uint64_t(1000000000)}) {
      const Result* c = find_result(copy_key(t, n));
      const Result* g = find_result(perturb_key(mezo::ZDistribution::gaussian, t, n));
      const Result* rd = find_result(perturb_key(mezo::ZDistribution::rademacher, t, n));
      if (!c && !g && !rd) continue;
      const auto gbs = [](const Result* r) { return r ? r->rate() / 1e9 : std::nan(""); };
      std::printf("  %-5s %-5s %10.1f %10.1f %8.3f %10.1f %8.3f\n", dtype_name(t).c_str(),
                  count_name(n).c_str(), gbs(c), gbs(g), gbs(g) / gbs(c), gbs(rd), gbs(rd) / gbs(c));
    }

  std::printf("\n(b) cublasSgemm 4096^3 (TFLOP/s)\n");
  for (bool tf32 : {false, true})
    if (const Result* r = find_result(gemm_key(tf32)))
      std::printf("  %-5s %8.1f\n", tf32 ? "tf32" : "fp32", r->rate() / 1e12);

  std::printf("\n(c) GpuMaskedLM forward, batch %lld x %lld, one mask position per row, 2 vocab ids\n",
              (long long)kRows, (long long)kSeq);
  std::printf("  %-18s %9s %11s %9s %7s %8s\n", "model", "ms", "tokens/s", "TFLOP/s", "x_gemm", "peak_GB");
  for (const auto& [name, r] : results()) {
    if (name.rfind("forward/", 0) != 0 || r.seconds.empty()) continue;
    const bool tf32 = name.size() >= 4 && name.compare(name.size() - 4, 4, "tf32") == 0;
    const Result* g = find_result(gemm_key(tf32));
    std::printf("  %-18s %9.2f %11.0f %9.1f %7.3f %8.2f\n", name.substr(8).c_str(), r.median_s() * 1e3,
                double(kRows * kSeq) / r.median_s(), r.rate() / 1e12,
                g ? r.rate() / g->rate() : std::nan(""), r.peak_bytes / 1e9);
  }
  for (const auto& [name, r] : results())
    if (name.rfind("update_pass/", 0) == 0 && !r.seconds.empty())
      std::printf("  %-18s %9.2f ms per pass over %.0f elements, %.1f GB/s\n", name.c_str(),
                  r.median_s() * 1e3, r.elements, r.rate() / 1e9);

  std::printf("\n(d) mezo::step, batch %lld x %lld; floor = 2 forwards at the sgemm rate + 1 pass at the copy "
              "bandwidth (goal x_floor <= 1.5, x_torch >= 5)\n",
              (long long)kRows, (long long)kSeq);
  std::printf("  %-18s %9s %9s %9s %9s %8s %8s %8s %10s %8s\n", "model", "step_ms", "2fwd_ms", "rest_ms",
              "floor_ms", "x_floor", "peak_GB", "fwd_pk", "torch_ms", "x_torch");
  for (const auto& [name, r] : results()) {
    if (name.rfind("step/", 0) != 0 || r.seconds.empty()) continue;
    const std::string key = name.substr(5);
    const std::string shape = key.substr(0, key.find('/'));
    const mezo::DType w = key.find("w=bf16") != std::string::npos ? mezo::DType::bf16 : mezo::DType::f32;
    const bool tf32 = key.compare(key.size() - 4, 4, "tf32") == 0;
    const Floor floor = step_floor(shape == "base" ? bench::roberta_base() : bench::roberta_large(),
                                   r.elements, w, tf32);
    const Result* fwd = find_result("forward/" + key);
    const TorchReference* t = torch_reference(shape, w, tf32);
    std::printf("  %-18s %9.2f %9.2f %9.2f %9.2f %8.3f %8.2f %8.2f %10.2f %8.2f%s\n", key.c_str(),
                r.median_s() * 1e3, median(r.parts.at("forwards")) * 1e3, median(r.parts.at("rest")) * 1e3,
                floor.total() * 1e3, r.median_s() / floor.total(), r.peak_bytes / 1e9,
                fwd ? fwd->peak_bytes / 1e9 : std::nan(""), t ? t->step_ms : std::nan(""),
                t ? t->step_ms / (r.median_s() * 1e3) : std::nan(""),
                r.rejected > 0 ? "  (some steps rejected: see 'rejected')" : "");
    std::printf("  %-18s floor parts: 2 forwards %.2f ms + 1 pass %.2f ms\n", "", floor.gemm_s * 1e3,
                floor.pass_s * 1e3);
  }
  for (const auto& t : torch_references()) {
    std::printf("  torch reference %s: %s %s%s: %.2f ms/step (2 forwards %.2f ms, 4 passes %.2f ms) on %s%s\n",
                t.file.c_str(), t.model.c_str(), t.dtype.c_str(), t.tf32 ? " tf32" : "", t.step_ms,
                2 * t.forward_ms, t.passes_ms, t.device.c_str(),
                t.device == device().name ? "" : "  ** NOT THIS GPU: ratios not comparable **");
  }
  std::printf("\n");
}

void load_torch_reference(const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "mezo_cuda_benchmark: cannot read --torch_reference=%s; ignored\n", file.c_str());
    return;
  }
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    TorchReference t;
    t.file = file;
    t.model = j.at("model").get<std::string>();
    t.dtype = j.at("dtype").get<std::string>();
    t.tf32 = j.value("tf32", false);
    t.device = j.value("device", std::string());
    t.step_ms = j.at("step_ms_median").get<double>();
    t.forward_ms = j.at("forward_ms_median").get<double>();
    t.passes_ms = j.at("passes_ms_median").get<double>();
    t.peak_bytes = j.value("peak_bytes", 0.0);
    if (j.at("batch").get<std::int64_t>() != kRows || j.at("seq").get<std::int64_t>() != kSeq) {
      std::fprintf(stderr, "mezo_cuda_benchmark: %s is not batch %lld x %lld; ignored\n", file.c_str(),
                   (long long)kRows, (long long)kSeq);
      return;
    }
    torch_references().push_back(t);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mezo_cuda_benchmark: %s: %s; ignored\n", file.c_str(), e.what());
  }
}

void register_benchmarks() {
  using mezo::DType;
  using mezo::ZDistribution;
  // (a) Three sizes up to 1e9 elements (4 GB fp32 in place; the copy needs twice that).
  for (std::uint64_t n : {std::uint64_t(10000000), std::uint64_t(100000000), std::uint64_t(1000000000)})
    for (DType t : {DType::f32, DType::bf16}) {
      benchmark::RegisterBenchmark(copy_key(t, n).c_str(), BM_CopyD2D, t, n)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond)
          ->MinTime(0.5);
      for (ZDistribution z : {ZDistribution::gaussian, ZDistribution::rademacher})
        benchmark::RegisterBenchmark(perturb_key(z, t, n).c_str(), BM_Perturb, z, t, n)
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond)
            ->MinTime(0.5);
    }
  // (b)
  for (bool tf32 : {false, true})
    benchmark::RegisterBenchmark(gemm_key(tf32).c_str(), BM_Sgemm, tf32)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
  // (c), (d): grouped by model so each is uploaded once.
  for (const std::string shape : {"base", "large"})
    for (DType w : {DType::f32, DType::bf16})
      for (bool tf32 : {false, true}) {
        const std::string key = model_key(shape, w, tf32);
        benchmark::RegisterBenchmark(("forward/" + key).c_str(), BM_Forward, shape, w, tf32)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond)
            ->Iterations(10);
        if (!tf32)
          benchmark::RegisterBenchmark(("update_pass/" + shape + "/w=" + dtype_name(w)).c_str(),
                                       BM_UpdatePass, shape, w)
              ->UseManualTime()
              ->Unit(benchmark::kMillisecond)
              ->MinTime(0.5);
        benchmark::RegisterBenchmark(("step/" + key).c_str(), BM_Step, shape, w, tf32)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond)
            ->Iterations(10);
      }
}

// Empty when a CUDA device can run the benchmarks; otherwise why not.
std::string gpu_unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    return std::string("no usable CUDA device: ") + cudaGetErrorName(status) + ": " +
           cudaGetErrorString(status);
  }
  if (count == 0) return "no CUDA device on this machine";
  try {
    mezo::GpuContext probe;  // also fails for a libmezo built without CUDA
    probe.synchronize();
  } catch (const std::exception& e) {
    return std::string("mezo::GpuContext failed: ") + e.what();
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  // Our own flag first, removed from argv so Google Benchmark does not reject it.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const std::string flag = "--torch_reference=";
    if (arg.rfind(flag, 0) == 0)
      load_torch_reference(arg.substr(flag.size()));
    else
      argv[kept++] = argv[i];
  }
  argc = kept;

  const std::string reason = gpu_unavailable_reason();
  if (!reason.empty()) {
    std::printf("mezo_cuda_benchmark: SKIPPED, nothing measured: %s\n", reason.c_str());
    return 0;
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  cudaDeviceProp prop{};
  int runtime = 0, driver = 0;
  check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  device().name = prop.name;
  benchmark::AddCustomContext("gpu", prop.name);
  benchmark::AddCustomContext("gpu_compute_capability",
                              std::to_string(prop.major) + "." + std::to_string(prop.minor));
  benchmark::AddCustomContext("gpu_memory_GiB", std::to_string(prop.totalGlobalMem >> 30));
  benchmark::AddCustomContext("cuda_runtime", std::to_string(runtime));
  benchmark::AddCustomContext("cuda_driver", std::to_string(driver));
  std::printf("GPU 0: %s, compute capability %d.%d, %d SMs, %zu MiB; CUDA runtime %d, driver %d\n", prop.name,
              prop.major, prop.minor, prop.multiProcessorCount, prop.totalGlobalMem >> 20, runtime, driver);

  register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  try {
    print_summary();
  } catch (const std::exception& e) {  // an on-demand ceiling that could not be measured
    std::printf("summary incomplete: %s\n", e.what());
  }
  benchmark::Shutdown();

  // Model, then contexts, while the CUDA runtime is still up.
  device().model.gpu.reset();
  device().cpu_model.reset();
  for (auto& c : device().context) c.reset();
  for (auto& c : device().baseline) c.reset();
  return 0;
}
