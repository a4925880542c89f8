#include "file_io.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

void throw_io_error(const std::string& action, const std::filesystem::path& path) {
  throw Error(ErrorCode::io,
              fmt::format("cannot {} '{}': {}", action, path.string(), std::strerror(errno)));
}

std::string read_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_io_error("open", path);
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      errno = saved;
      throw_io_error("read", path);
    }
    if (got == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return bytes;
}

void write_all(int fd, const void* bytes, std::size_t size, const std::filesystem::path& path) {
  const auto* p = static_cast<const char*>(bytes);
  while (size > 0) {
    const ssize_t put = ::write(fd, p, size);
    if (put < 0) {
      if (errno == EINTR) continue;
      throw_io_error("write", path);
    }
    p += put;
    size -= static_cast<std::size_t>(put);
  }
}

void fsync_or_throw(int fd, const std::filesystem::path& path) {
  if (::fsync(fd) != 0) throw_io_error("fsync", path);
}

void write_file_atomically(const std::filesystem::path& path, const void* bytes, std::size_t size) {
  std::filesystem::path temp = path;
  temp += fmt::format(".tmp.{}", ::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_io_error("create a temporary file beside", path);
  try {
    write_all(fd, bytes, size, temp);
    fsync_or_throw(fd, temp);
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(temp.c_str());
    throw_io_error("close", temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temp.c_str());
    errno = saved;
    throw_io_error("rename into place", path);
  }
  // The rename is durable only once the directory entry is.
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace detail
MEZO_END_NAMESPACE
