#include "cpu/param_pass.hpp"

#include <omp.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
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
  void* theta;  // float or bf16 (std::uint16_t) elements
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
      chunks.push_back(
          {first, view.dtype, view.offset + begin, std::min(kChunk, view.size - begin), decays});
    }
  }
  return chunks;
}

// A thread's journal entries for one pass. Not a std::vector: its resize
// zero-fills every new entry before we overwrite it, which cost a sixth of a
// journaled pass. Kept from pass to pass by its thread (a journal is tens of
// MB for a real model: growing a fresh one every pass cost more than the pass).
class EntryBuffer {
 public:
  void clear() { size_ = 0; }
  std::size_t size() const { return size_; }
  const RestoreJournal::Entry* data() const { return data_.get(); }
  // Room for `count` more entries at end(); what is written there is kept by
  // commit(written).
  RestoreJournal::Entry* reserve_back(std::size_t count) {
    if (size_ + count > capacity_) {
      const std::size_t capacity = std::max(size_ + count, 2 * capacity_);
      auto grown = std::make_unique_for_overwrite<RestoreJournal::Entry[]>(capacity);
      std::copy(data_.get(), data_.get() + size_, grown.get());
      data_ = std::move(grown);
      capacity_ = capacity;
    }
    return data_.get() + size_;
  }
  void commit(std::size_t written) { size_ += written; }

 private:
  std::unique_ptr<RestoreJournal::Entry[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

class ChunkWorker {
 public:
  ChunkWorker(const ParamPass& pass, ZDistribution distribution)
      : pass_(pass), distribution_(distribution) {}

  void run(const Chunk& chunk, EntryBuffer& recorded) {
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
  void run_f32(float* theta, const Chunk& chunk, EntryBuffer& recorded) {
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

  // A worker's chunks come in increasing index order, so each chunk's entries
  // start where the last chunk's ended: one binary search per worker.
  void patch_from_journal(float* theta, const Chunk& chunk) {
    const auto entries = pass_.journal->entries();
    if (!journal_cursor_) {
      journal_cursor_ = static_cast<std::size_t>(
          std::lower_bound(entries.begin(), entries.end(), chunk.global_first,
                           [](const RestoreJournal::Entry& e, std::uint64_t index) {
                             return e.index() < index;
                           }) -
          entries.begin());
    }
    std::size_t k = *journal_cursor_;
    while (k < entries.size() && entries[k].index() < chunk.global_first) ++k;
    const std::uint64_t end = chunk.global_first + chunk.count;
    for (; k < entries.size() && entries[k].index() < end; ++k) {
      theta[entries[k].index() - chunk.global_first] = entries[k].value;
    }
    journal_cursor_ = k;
  }

  // x += d with d = coef·z, remembering x wherever undoing ±d would not give
  // x back exactly: where fl(fl(x + d) − d) or fl(fl(x − d) + d) differs from
  // x in its bits (so −0, which comes back +0, is kept, and so is a NaN that
  // comes back another NaN). About one element in eight at transformer weight
  // scales and ε = 1e-3.
  void record_lossy_and_apply(float* theta, const Chunk& chunk, EntryBuffer& recorded) {
    const ZTerm& term = pass_.terms.front();
    const float* z = z_for(term.seed, chunk);
    const float c = term.coef;
    const std::size_t n = chunk.count;
    std::size_t j = 0;
    std::size_t kept = 0;
#if defined(__AVX512F__)
    // 16 elements a step, one sweep: the test as a lane mask; the lossy
    // lanes' offsets and values compressed in registers and stored whole (a
    // compressing store to memory is microcoded and slow on Zen 4), the next
    // store starting after the kept ones (hence 16 spare slots); the update.
    const __m512 coef = _mm512_set1_ps(c);
    __m512i offsets = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i sixteen = _mm512_set1_epi32(16);
    for (; j + 16 <= n; j += 16) {
      const __m512 x = _mm512_loadu_ps(theta + j);
      const __m512 d = _mm512_mul_ps(coef, _mm512_loadu_ps(z + j));
      const __m512 forward = _mm512_add_ps(x, d);
      const __m512 back_from_plus = _mm512_sub_ps(forward, d);
      const __m512 back_from_minus = _mm512_add_ps(_mm512_sub_ps(x, d), d);
      const __m512i bits = _mm512_castps_si512(x);
      const __mmask16 lossy = _mm512_cmpneq_epi32_mask(_mm512_castps_si512(back_from_plus), bits) |
                              _mm512_cmpneq_epi32_mask(_mm512_castps_si512(back_from_minus), bits);
      _mm512_storeu_si512(lossy_at_ + kept, _mm512_maskz_compress_epi32(lossy, offsets));
      _mm512_storeu_ps(lossy_value_ + kept, _mm512_maskz_compress_ps(lossy, x));
      _mm512_storeu_ps(theta + j, forward);
      kept += static_cast<std::size_t>(__builtin_popcount(lossy));
      offsets = _mm512_add_epi32(offsets, sixteen);
    }
#endif
    // The rest (all of it without AVX-512): branch-free, so it vectorises;
    // every element is written, only lossy ones kept (a branch on a
    // one-in-eight random flag mispredicts too often).
    for (; j < n; ++j) {
      const float x = theta[j];
      const float d = c * z[j];
      lossy_at_[kept] = static_cast<std::uint32_t>(j);
      lossy_value_[kept] = x;
      const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
      kept += static_cast<std::size_t>(std::bit_cast<std::uint32_t>((x + d) - d) != bits) |
              static_cast<std::size_t>(std::bit_cast<std::uint32_t>((x - d) + d) != bits);
      theta[j] = x + d;
    }
    RestoreJournal::Entry* out = recorded.reserve_back(kept);
    for (std::size_t k = 0; k < kept; ++k) {
      out[k] = RestoreJournal::Entry::make(chunk.global_first + lossy_at_[k], lossy_value_[k]);
    }
    recorded.commit(kept);
  }

  const ParamPass& pass_;
  ZDistribution distribution_;
  alignas(64) float z_[kChunk];
  alignas(64) float widened_[kChunk];
  alignas(64) std::uint32_t lossy_at_[kChunk + 16];  // offsets in the chunk of lossy elements
  alignas(64) float lossy_value_[kChunk + 16];       // their values before the pass
  std::optional<std::size_t> journal_cursor_;        // where the next chunk's entries start
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
  // Each thread takes one contiguous range of chunks and records into its own
  // buffer, so the buffers concatenated in thread order keep the journal
  // sorted by index.
  std::vector<EntryBuffer*> recorded(static_cast<std::size_t>(threads));
  const auto own_buffer = [] {
    thread_local EntryBuffer buffer;
    buffer.clear();
    return &buffer;
  };
  if (threads == 1) {
    // Small sets: skip the OpenMP team start-up, which dominates tiny passes.
    recorded[0] = own_buffer();
    ChunkWorker worker(pass, distribution);
    for (const Chunk& chunk : chunks) worker.run(chunk, *recorded[0]);
  } else {
    // An exception (out of memory growing a buffer) must not leave the
    // parallel region, which would terminate the program: each thread keeps
    // its own, rethrown after (θ is then part-way through the pass).
    std::vector<std::exception_ptr> failed(recorded.size());
#pragma omp parallel num_threads(threads)
    {
      const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
      const std::size_t team = static_cast<std::size_t>(omp_get_num_threads());
      const std::size_t begin = chunks.size() * t / team;
      const std::size_t end = chunks.size() * (t + 1) / team;
      try {
        recorded[t] = own_buffer();
        ChunkWorker worker(pass, distribution);
        for (std::size_t c = begin; c < end; ++c) worker.run(chunks[c], *recorded[t]);
      } catch (...) {
        failed[t] = std::current_exception();
      }
    }
    for (const std::exception_ptr& e : failed) {
      if (e) std::rethrow_exception(e);
    }
  }
  if (pass.record == nullptr) return;
  // One copy of each thread's entries, straight into place (a resize and a
  // parallel copy was slower: the resize zero-fills).
  std::size_t total = 0;
  for (const EntryBuffer* part : recorded) total += part->size();
  auto& entries = pass.record->mutable_entries();
  entries.clear();
  entries.reserve(total);
  for (const EntryBuffer* part : recorded) {
    entries.insert(entries.end(), part->data(), part->data() + part->size());
  }
}

}  // namespace cpu
MEZO_END_NAMESPACE
