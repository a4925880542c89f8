// Communicator: MPI collectives with a deadline.
//
// MPI's blocking collectives wait forever for a rank that stalls (SIGSTOP, a
// deadlock, a hung device). Every exchange here is a nonblocking collective
// polled with MPI_Test until it completes or CommunicatorOptions::timeout_s
// passes; then this rank throws and the others, stuck in the same exchange,
// do the same at their own deadline. A collective request cannot be
// cancelled, so a timed-out communicator stays failed.
#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <thread>

#include "mezo/distributed.hpp"
#include "mezo/distributed_mpi.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE

struct Communicator::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  CommunicatorOptions options;
  TrafficCounters traffic;
  std::string failure;  // set once a collective failed: every later call throws it
  // What MPI reads and writes while a collective is in flight. A timed-out
  // collective is still in flight (MPI cannot cancel one) and may complete
  // later, so on failure these are deliberately never freed.
  struct Staging {
    std::vector<std::byte> send, receive;
    std::vector<int> counts, displacements;
  };
  Staging* staging = new Staging;

  ~Impl() {
    if (!failure.empty()) return;  // leaves comm and staging to MPI_Finalize / MPI_Abort
    delete staging;
    int finalized = 1;
    MPI_Finalized(&finalized);
    if (comm != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm);
  }

  // A duplicate of `parent` with errors returned, not fatal. Throws
  // mezo::Error before MPI is initialised and for a bad timeout.
  static std::unique_ptr<Impl> make(MPI_Comm parent, CommunicatorOptions options);

  [[noreturn]] void fail(std::string message) {
    failure = message;
    throw Error(ErrorCode::distributed, message);
  }

  void check_usable(std::string_view what) const {
    if (!failure.empty()) {
      throw Error(ErrorCode::distributed,
                  fmt::format("rank {}: cannot start '{}': this communicator failed earlier ({})",
                              rank, what, failure));
    }
  }

  void check(int code, std::string_view call, std::string_view what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    fail(fmt::format("rank {} of {}: {} failed during '{}': {}", rank, size, call, what,
                     std::string_view(text, static_cast<std::size_t>(length))));
  }

  // Polls `request` until it completes or the deadline passes. Spins briefly
  // (an answer usually comes within microseconds once all ranks are there),
  // then sleeps in growing steps up to 1 ms so that a rank waiting for a slow
  // one leaves the CPU to it.
  void wait(MPI_Request& request, std::string_view what) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto deadline = start + std::chrono::duration_cast<clock::duration>(
                                      std::chrono::duration<double>(options.timeout_s));
    auto pause = std::chrono::microseconds(5);
    for (;;) {
      int done = 0;
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test", what);
      if (done) return;
      const auto now = clock::now();
      if (now >= deadline) {
        fail(fmt::format(
            "rank {} of {} got no answer from the other ranks within {:g} s during '{}': a rank "
            "died, stalled or is far slower than this one (CommunicatorOptions::timeout_s); the "
            "communicator is unusable now",
            rank, size, options.timeout_s, what));
      }
      if (now - start > std::chrono::microseconds(200)) {
        std::this_thread::sleep_for(pause);
        pause = std::min(std::chrono::microseconds(1000), pause * 2);
      }
    }
  }
};

namespace {
void require_mpi() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    throw Error(ErrorCode::invalid_argument,
                "mezo::Communicator: MPI is not initialised (call MPI_Init or create a "
                "mezo::MpiSession first)");
  }
}
}  // namespace

std::unique_ptr<Communicator::Impl> Communicator::Impl::make(MPI_Comm parent,
                                                             CommunicatorOptions options) {
  require_mpi();
  if (!(options.timeout_s > 0.0) || !(options.timeout_s < 1e9)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("mezo::Communicator: timeout_s must be a positive number of seconds, "
                            "got {}",
                            options.timeout_s));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // Errors come back as codes (turned into mezo::Error), not as MPI's default
  // abort of the whole job.
  if (MPI_Comm_dup(parent, &impl->comm) != MPI_SUCCESS) {
    throw Error(ErrorCode::distributed, "mezo::Communicator: MPI_Comm_dup failed");
  }
  MPI_Comm_set_errhandler(impl->comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(impl->comm, &impl->rank);
  MPI_Comm_size(impl->comm, &impl->size);
  return impl;
}

Communicator::Communicator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Communicator::Communicator(Communicator&&) noexcept = default;
Communicator& Communicator::operator=(Communicator&&) noexcept = default;
Communicator::~Communicator() = default;

Communicator Communicator::world(CommunicatorOptions options) {
  return Communicator(Impl::make(MPI_COMM_WORLD, options));
}

Communicator Communicator::from_mpi_handle(std::int64_t handle, CommunicatorOptions options) {
  require_mpi();  // before MPI_Comm_f2c, which needs MPI
  return Communicator(Impl::make(MPI_Comm_f2c(static_cast<MPI_Fint>(handle)), options));
}

int Communicator::rank() const { return impl_->rank; }
int Communicator::size() const { return impl_->size; }
const CommunicatorOptions& Communicator::options() const { return impl_->options; }
const TrafficCounters& Communicator::traffic() const { return impl_->traffic; }

void Communicator::all_gather(std::span<const std::byte> block, std::span<const std::size_t> sizes,
                              std::span<std::byte> out, std::string_view what) {
  Impl& m = *impl_;
  m.check_usable(what);
  if (sizes.size() != static_cast<std::size_t>(m.size)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("Communicator::all_gather '{}': {} block sizes for {} ranks", what,
                            sizes.size(), m.size));
  }
  if (block.size() != sizes[static_cast<std::size_t>(m.rank)]) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("Communicator::all_gather '{}': rank {} sends {} bytes, sizes say {}",
                            what, m.rank, block.size(), sizes[static_cast<std::size_t>(m.rank)]));
  }
  const std::size_t total = std::accumulate(sizes.begin(), sizes.end(), std::size_t{0});
  if (out.size() != total || total > static_cast<std::size_t>(INT32_MAX)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("Communicator::all_gather '{}': output of {} bytes for {} gathered "
                            "(at most 2^31 - 1)",
                            what, out.size(), total));
  }
  Impl::Staging& st = *m.staging;
  st.counts.resize(sizes.size());
  st.displacements.resize(sizes.size());
  int offset = 0;
  for (std::size_t r = 0; r < sizes.size(); ++r) {
    st.counts[r] = static_cast<int>(sizes[r]);
    st.displacements[r] = offset;
    offset += st.counts[r];
  }
  st.send.assign(block.begin(), block.end());
  st.receive.resize(total);
  MPI_Request request = MPI_REQUEST_NULL;
  m.check(
      MPI_Iallgatherv(st.send.data(), static_cast<int>(st.send.size()), MPI_BYTE, st.receive.data(),
                      st.counts.data(), st.displacements.data(), MPI_BYTE, m.comm, &request),
      "MPI_Iallgatherv", what);
  m.wait(request, what);
  std::copy(st.receive.begin(), st.receive.end(), out.begin());
  ++m.traffic.collectives;
  m.traffic.bytes_sent += block.size();
  m.traffic.bytes_received += total - block.size();
}

std::vector<std::int64_t> Communicator::all_gather(std::int64_t value, std::string_view what) {
  std::vector<std::int64_t> values(static_cast<std::size_t>(size()));
  const std::vector<std::size_t> sizes(values.size(), sizeof(std::int64_t));
  all_gather(std::as_bytes(std::span(&value, 1)), sizes, std::as_writable_bytes(std::span(values)),
             what);
  return values;
}

void Communicator::barrier(std::string_view what) {
  Impl& m = *impl_;
  m.check_usable(what);
  MPI_Request request = MPI_REQUEST_NULL;
  m.check(MPI_Ibarrier(m.comm, &request), "MPI_Ibarrier", what);
  m.wait(request, what);
  ++m.traffic.collectives;
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return;
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    throw Error(ErrorCode::distributed, "mezo::MpiSession: MPI_Init_thread failed");
  }
  finalize_ = true;
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalize_ && !finalized) MPI_Finalize();
}

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

MEZO_END_NAMESPACE
