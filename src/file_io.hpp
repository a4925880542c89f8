// Small POSIX file helpers that turn failures into mezo::Error naming the path.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// Reads a whole file.
std::string read_file(const std::filesystem::path& path);
// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over
// `path` and fsyncs the directory: readers see the old file or the new one,
// never a mixture, even across a crash.
void write_file_atomically(const std::filesystem::path& path, const void* bytes, std::size_t size);
// write(2) until done; throws on failure.
void write_all(int fd, const void* bytes, std::size_t size, const std::filesystem::path& path);
void fsync_or_throw(int fd, const std::filesystem::path& path);
[[noreturn]] void throw_io_error(const std::string& action, const std::filesystem::path& path);

}  // namespace detail
MEZO_END_NAMESPACE
