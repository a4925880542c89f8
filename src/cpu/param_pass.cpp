#include "cpu/param_pass.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

#include "cpu/z_fill.hpp"
#include "mezo/bf16.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace cpu {
namespace {

// Elements per work item: 16 KiB of θ plus 16 KiB of z stay in L1/L2 while a
// fused pass sweeps them several times.
constexpr std::uint64_t kChunk = 4096;

struct Chunk {
  void* theta;                 // float or bf16 (std::uint16_t) elements
  DType dtype;
  std::uint64_t global_first;  // global index of element 0
  std::uint64_t count;
  bool weight_decay;
};

std::vector<Chunk> split_into_chunks(const ParamSet& params) {
  std::vector<Chunk> chunks;
  chunks.reserve(params.num_elements() / kChunk + params.views().size());
  for (const ParamView& view : params.views()) {
    const bool decays = params.groups()[view.group].weight_decay;
    for (std::uint64_t begin = 0; begin < view.size; begin += kChunk) {
      void* first = static_cast<std::byte*>(view.data) + begin * size_of(view.dtype);
      chunks.push_back({first, view.dtype, view.offset + begin,
                        std::min(kChunk, view.size - begin), decays});
    }
  }
  return chunks;
}

class ChunkWorker {
 public:
  ChunkWorker(const ParamPass& pass, ZDistribution distribution)
      : pass_(pass), distribution_(distribution) {}

  void run(const Chunk& chunk, std::vector<RestoreJournal::Entry>& recorded) {
    if (chunk.dtype == DType::bf16) {
      // Widen, run the fp32 pass, round once per element on the way back.
      auto* stored = static_cast<std::uint16_t*>(chunk.theta);
      for (std::size_t j = 0; j < chunk.count; ++j) widened_[j] = bf16_to_float(stored[j]);
      run_f32(widened_, chunk, recorded);
      for (std::size_t j = 0; j < chunk.count; ++j) stored[j] = float_to_bf16(widened_[j]);
      return;
    }
    run_f32(static_cast<float*>(chunk.theta), chunk, recorded);
  }

 private:
  void run_f32(float* theta, const Chunk& chunk, std::vector<RestoreJournal::Entry>& recorded) {
    const std::size_t n = chunk.count;
    cached_seed_valid_ = false;
    if (pass_.restore && pass_.restore->coef != 0.0f) {
      const float* z = z_for(pass_.restore->seed, chunk);
      const float c = pass_.restore->coef;
      for (std::size_t j = 0; j < n; ++j) theta[j] = theta[j] + c * z[j];
    }
    if (pass_.journal != nullptr) patch_from_journal(theta, chunk);
    if (pass_.decay != 0.0f && chunk.weight_decay) {
      const float decay = pass_.decay;
      for (std::size_t j = 0; j < n; ++j) theta[j] = theta[j] - decay * theta[j];
    }
    if (pass_.record != nullptr) {
      record_lossy_and_apply(theta, chunk, recorded);
      return;
    }
    for (const ZTerm& term : pass_.terms) {
      if (term.coef == 0.0f) continue;  // moves nothing; skip generating z
      const float* z = z_for(term.seed, chunk);
      const float c = term.coef;
      for (std::size_t j = 0; j < n; ++j) theta[j] = theta[j] + c * z[j];
    }
  }

  const float* z_for(std::uint64_t seed, const Chunk& chunk) {
    if (!cached_seed_valid_ || cached_seed_ != seed) {
      fill_z(distribution_, seed, chunk.global_first, z_, chunk.count);
      cached_seed_ = seed;
      cached_seed_valid_ = true;
    }
    return z_;
  }

  void patch_from_journal(float* theta, const Chunk& chunk) {
    const auto entries = pass_.journal->entries();
    auto it = std::lower_bound(
        entries.begin(), entries.end(), chunk.global_first,
        [](const RestoreJournal::Entry& e, std::uint64_t index) { return e.index() < index; });
    for (; it != entries.end() && it->index() < chunk.global_first + chunk.count; ++it) {
      theta[it->index() - chunk.global_first] = it->value;
    }
  }

  // x += d with d = coef·z, remembering x wherever undoing ±d would not give
  // x back exactly. Three sweeps over the chunk (in L1/L2): the test,
  // branch-free so it vectorises; the journal entries of the few lossy
  // elements (about one in eight at transformer weight scales and ε = 1e-3);
  // the update.
  void record_lossy_and_apply(float* theta, const Chunk& chunk,
                              std::vector<RestoreJournal::Entry>& recorded) {
    const ZTerm& term = pass_.terms.front();
    const float* z = z_for(term.seed, chunk);
    const float c = term.coef;
    const std::size_t n = chunk.count;
    for (std::size_t j = 0; j < n; ++j) {
      const float x = theta[j];
      const float d = c * z[j];
      const float forward = x + d;
      // A NaN x compares unequal to itself, so it is kept too.
      lossy_[j] = static_cast<std::uint32_t>((forward - d) != x) |
                  static_cast<std::uint32_t>(((x - d) + d) != x);
    }
    // Branch-free compaction: every element is written, only lossy ones kept
    // (a branch on a one-in-eight random flag mispredicts too often).
    std::size_t kept = 0;
    for (std::size_t j = 0; j < n; ++j) {
      entries_[kept] = RestoreJournal::Entry::make(chunk.global_first + j, theta[j]);
      kept += lossy_[j];
    }
    recorded.insert(recorded.end(), entries_, entries_ + kept);
    for (std::size_t j = 0; j < n; ++j) theta[j] = theta[j] + c * z[j];
  }

  const ParamPass& pass_;
  ZDistribution distribution_;
  alignas(64) float z_[kChunk];
  alignas(64) float widened_[kChunk];
  alignas(64) std::uint32_t lossy_[kChunk];
  RestoreJournal::Entry entries_[kChunk];
  std::uint64_t cached_seed_ = 0;
  bool cached_seed_valid_ = false;
};

// Below this many elements per thread, starting an OpenMP team costs more than
// the pass itself (tiny models call a pass thousands of times per second).
constexpr std::uint64_t kMinElementsPerThread = 1 << 16;

int resolve_threads(const ExecutionOptions& exec, std::uint64_t elements) {
  std::uint64_t threads = exec.num_threads > 0 ? static_cast<std::uint64_t>(exec.num_threads)
                                               : std::thread::hardware_concurrency();
  threads = std::min(threads, elements / kMinElementsPerThread);
  return static_cast<int>(std::max<std::uint64_t>(threads, 1));
}

}  // namespace

void reject_journaled_bf16(const ParamSet& params, const ParamPass& pass) {
  if (pass.journal == nullptr && pass.record == nullptr) return;
  for (const ParamView& view : params.views()) {
    if (view.dtype == DType::bf16) {
      throw Error(ErrorCode::unsupported,
                  "bf16 parameter '" + view.name +
                      "': RestoreJournal records fp32 round trips only; train bf16 weights "
                      "through a DeferredPerturbation (exact by construction), or with "
                      "StepOptions{.exact_restore = false}");
    }
  }
}

void apply_param_pass(const ParamSet& params, const ParamPass& pass, ZDistribution distribution,
                      const ExecutionOptions& exec) {
  reject_journaled_bf16(params, pass);
  const std::vector<Chunk> chunks = split_into_chunks(params);
  const int threads = resolve_threads(exec, params.num_elements());
  // Each thread takes one contiguous range of chunks, so concatenating the
  // threads' journal entries in thread order keeps them sorted by index.
  // Each thread records into its own vector, kept from pass to pass (a
  // journal is tens of MB for a real model: growing a fresh vector every pass
  // cost more than the pass itself).
  std::vector<std::vector<RestoreJournal::Entry>*> recorded(static_cast<std::size_t>(threads));
  const auto own_scratch = [] {
    thread_local std::vector<RestoreJournal::Entry> scratch;
    scratch.clear();
    return &scratch;
  };
  if (threads == 1) {
    // Small sets: skip the OpenMP team start-up, which dominates tiny passes.
    recorded[0] = own_scratch();
    ChunkWorker worker(pass, distribution);
    for (const Chunk& chunk : chunks) worker.run(chunk, *recorded[0]);
  } else {
#pragma omp parallel num_threads(threads)
    {
      const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
      const std::size_t team = static_cast<std::size_t>(omp_get_num_threads());
      const std::size_t begin = chunks.size() * t / team;
      const std::size_t end = chunks.size() * (t + 1) / team;
      recorded[t] = own_scratch();
      ChunkWorker worker(pass, distribution);
      for (std::size_t c = begin; c < end; ++c) worker.run(chunks[c], *recorded[t]);
    }
  }
  if (pass.record != nullptr) {
    auto& entries = pass.record->mutable_entries();
    std::size_t total = 0;
    for (const auto* part : recorded) total += part->size();
    entries.clear();
    entries.reserve(total);
    for (const auto* part : recorded) entries.insert(entries.end(), part->begin(), part->end());
  }
}

}  // namespace cpu
MEZO_END_NAMESPACE
