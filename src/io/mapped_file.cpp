#include "io/mapped_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "file_io.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

namespace {

// Closes the descriptor when open() leaves, keeping errno for the error.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    const int saved = errno;
    ::close(fd_);
    errno = saved;
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

MappedFile MappedFile::open(const std::filesystem::path& path, std::uint64_t min_size,
                            std::string_view needed) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_io_error("open", path);
  const Descriptor descriptor(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_io_error("stat", path);
  if (!S_ISREG(st.st_mode)) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: not a regular file", path.string()));
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size < min_size || file_size == 0) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("{}: the file is {} bytes, shorter than {} (truncated?)", path.string(),
                            file_size, needed));
  }
  void* map = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) throw_io_error("map", path);
  MappedFile file;  // the mapping keeps the file; the descriptor closes
  file.map_ = map;
  file.size_ = file_size;
  return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : map_(std::exchange(other.map_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (map_ != nullptr) ::munmap(map_, size_);
    map_ = std::exchange(other.map_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (map_ != nullptr) ::munmap(map_, size_);
}

}  // namespace detail
MEZO_END_NAMESPACE
