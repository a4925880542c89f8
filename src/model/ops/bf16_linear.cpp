// Bf16Linear on oneDNN's matmul: bf16 × bf16 → fp32, one primitive per piece
// shape, created once and run single-threaded inside linear()'s pieces.
#include "model/ops/bf16_linear.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <exception>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "mezo/bf16.hpp"
#include "mezo/error.hpp"
#include "model/ops/linear_pieces.hpp"

MEZO_BEGIN_NAMESPACE
namespace model::cpu {
namespace {

using Dims = dnnl::memory::dims;
using DataType = dnnl::memory::data_type;

// Elementwise, so any split of the work gives the same bits.
void round_to_bf16(const float* x, std::int64_t count, std::uint16_t* out) {
#pragma omp parallel for schedule(static) if (count > (1 << 16))
  for (std::int64_t i = 0; i < count; ++i) out[i] = float_to_bf16(x[i]);
}

// One piece's product: y (m, n; rows ldy apart) = x (m, k) · w (n, k)ᵀ + b.
struct PieceShape {
  std::int64_t m, k, n, ldy;
  bool bias;
  auto operator<=>(const PieceShape&) const = default;
};

// Thread counts are read when a primitive is created (oneDNN sizes its
// blocking for them), so creation happens on one thread like the pieces.
class OneThread {
 public:
  OneThread() : previous_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~OneThread() { omp_set_num_threads(previous_); }
  OneThread(const OneThread&) = delete;
  OneThread& operator=(const OneThread&) = delete;

 private:
  int previous_;
};

}  // namespace

struct Bf16Linear::Impl {
  struct Kernel {
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul primitive;
  };

  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::map<PieceShape, Kernel> kernels;
  std::vector<std::uint16_t> x16, w16;          // the inputs in bf16, grown and kept
  std::vector<dnnl::stream> streams;            // one per thread of the pieces' team
  std::vector<std::vector<std::byte>> scratch;  // oneDNN's scratchpad, one per thread

  // The primitive for a piece shape, created on first use. Throws
  // mezo::Error (unsupported) where oneDNN has no bf16 matmul for the CPU, or
  // only its reference code.
  const Kernel& kernel(const PieceShape& s) {
    auto it = kernels.find(s);
    if (it != kernels.end()) return it->second;
    const dnnl::memory::desc src({s.m, s.k}, DataType::bf16, Dims{s.k, 1});
    // w is (n, k) row-major: oneDNN's (k, n) weights with strides (1, k).
    const dnnl::memory::desc weights({s.k, s.n}, DataType::bf16, Dims{1, s.k});
    const dnnl::memory::desc bias({1, s.n}, DataType::f32, Dims{s.n, 1});
    const dnnl::memory::desc dst({s.m, s.n}, DataType::f32, Dims{s.ldy, 1});
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // one per thread (run())
    OneThread one;
    try {
      const dnnl::matmul::desc desc = s.bias ? dnnl::matmul::desc(src, weights, bias, dst)
                                             : dnnl::matmul::desc(src, weights, dst);
      dnnl::matmul::primitive_desc pd(desc, attr, engine);
      const std::string name = pd.impl_info_str();
      if (name.starts_with("ref")) {
        throw Error(ErrorCode::unsupported,
                    fmt::format("bf16 compute: oneDNN has only its reference bf16 matmul ('{}') "
                                "for this CPU, far slower than fp32; bf16 needs AVX-512 at least "
                                "(AVX512_BF16 or AMX to be fast). Use fp32.",
                                name));
      }
      return kernels.emplace(s, Kernel{pd, dnnl::matmul(pd)}).first->second;
    } catch (const dnnl::error& e) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("bf16 compute: oneDNN has no bf16 matmul for this CPU ({}); it "
                              "needs AVX-512 at least (AVX512_BF16 or AMX to be fast). Use fp32.",
                              e.what()));
    }
  }

  // Sizes the per-thread streams and scratchpads for `team` threads running
  // these kernels, before the pieces start (nothing allocates inside them).
  void prepare(int team, const Kernel& a, const Kernel& b) {
    while (static_cast<int>(streams.size()) < team) streams.emplace_back(engine);
    if (static_cast<int>(scratch.size()) < team) scratch.resize(static_cast<std::size_t>(team));
    const std::size_t bytes =
        std::max(a.pd.scratchpad_desc().get_size(), b.pd.scratchpad_desc().get_size());
    for (auto& s : scratch)
      if (s.size() < bytes) s.resize(bytes);
  }

  // One piece, on the calling thread of the pieces' team.
  void run(const Kernel& k, int thread, const std::uint16_t* x, const std::uint16_t* w,
           const float* b, float* y) {
    auto memory = [&](const dnnl::memory::desc& d, const void* p) {
      return dnnl::memory(d, engine, const_cast<void*>(p));
    };
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, memory(k.pd.src_desc(), x)},
        {DNNL_ARG_WEIGHTS, memory(k.pd.weights_desc(), w)},
        {DNNL_ARG_DST, memory(k.pd.dst_desc(), y)},
        {DNNL_ARG_SCRATCHPAD, memory(k.pd.scratchpad_desc(), scratch[thread].data())}};
    if (b != nullptr) args.emplace(DNNL_ARG_BIAS, memory(k.pd.bias_desc(), b));
    k.primitive.execute(streams[thread], args);
  }
};

// A small shape: an unsupported CPU fails here, when the model is loaded.
Bf16Linear::Bf16Linear() : impl_(std::make_unique<Impl>()) {
  impl_->kernel({.m = 16, .k = 64, .n = 16, .ldy = 16, .bias = false});
}

Bf16Linear::~Bf16Linear() = default;
Bf16Linear::Bf16Linear(Bf16Linear&&) noexcept = default;
Bf16Linear& Bf16Linear::operator=(Bf16Linear&&) noexcept = default;

void Bf16Linear::operator()(const float* x, std::int64_t n, std::int64_t in, const float* w,
                            const float* b, std::int64_t out, float* y) {
  if (n == 0 || out == 0) return;
  Impl& m = *impl_;
  if (m.x16.size() < static_cast<std::size_t>(n * in))
    m.x16.resize(static_cast<std::size_t>(n * in));
  if (m.w16.size() < static_cast<std::size_t>(out * in))
    m.w16.resize(static_cast<std::size_t>(out * in));
  round_to_bf16(x, n * in, m.x16.data());
  round_to_bf16(w, out * in, m.w16.data());

  const LinearPieces pieces = linear_pieces(n, out);
  // A piece is `piece` long but the last may be shorter: at most two shapes.
  auto shape = [&](std::int64_t size) {
    return pieces.cut_rows
               ? PieceShape{.m = size, .k = in, .n = out, .ldy = out, .bias = b != nullptr}
               : PieceShape{.m = n, .k = in, .n = size, .ldy = out, .bias = b != nullptr};
  };
  const std::int64_t last = pieces.length - (pieces.length - 1) / pieces.piece * pieces.piece;
  const Impl::Kernel& whole = m.kernel(shape(std::min(pieces.piece, pieces.length)));
  const Impl::Kernel& tail = m.kernel(shape(last));
  m.prepare(pieces.team, whole, tail);

  // An exception must not leave an OpenMP region: the first is kept and
  // rethrown after it.
  std::exception_ptr failure;
  std::mutex failure_mutex;
  const std::uint16_t* x16 = m.x16.data();
  const std::uint16_t* w16 = m.w16.data();
  pieces.for_each([&](std::int64_t begin, std::int64_t size) {
    const Impl::Kernel& k = size == pieces.piece ? whole : tail;
    const int thread = omp_get_thread_num();
    try {
      if (pieces.cut_rows) {
        m.run(k, thread, x16 + begin * in, w16, b, y + begin * out);
      } else {
        m.run(k, thread, x16, w16 + begin * in, b != nullptr ? b + begin : nullptr, y + begin);
      }
    } catch (...) {
      const std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  });
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const dnnl::error& e) {
      throw Error(ErrorCode::internal,
                  fmt::format("bf16 compute: oneDNN's matmul failed ({})", e.what()));
    }
  }
}

}  // namespace model::cpu
MEZO_END_NAMESPACE
