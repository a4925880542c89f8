#include "run_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "mezo/error.hpp"

namespace sst2 {
namespace {

[[noreturn]] void io_error(const std::string& what, const std::filesystem::path& path) {
  throw mezo::Error(mezo::ErrorCode::io,
                    what + " '" + path.string() + "': " + std::strerror(errno));
}

void write_all(int fd, const std::string& bytes, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_error("cannot write", path);
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::path temp = path;
  temp += ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_error("cannot create", temp);
  write_all(fd, bytes, temp);
  if (::fsync(fd) != 0 || ::close(fd) != 0) io_error("cannot flush", temp);
  if (::rename(temp.c_str(), path.c_str()) != 0) io_error("cannot rename into place", path);
}

void write_json_atomically(const std::filesystem::path& path, const nlohmann::json& j) {
  write_file_atomically(path, j.dump(2) + "\n");
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) io_error("cannot open", path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw mezo::Error(mezo::ErrorCode::invalid_format, path.string() + ": " + e.what());
  }
}

namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;

// 64-bit FNV-1a over `bytes`, continuing from `hash`.
std::uint64_t fnv1a(std::uint64_t hash, const char* bytes, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    hash = (hash ^ static_cast<unsigned char>(bytes[i])) * 0x100000001b3ull;
  return hash;
}

std::string hex(std::uint64_t value) {
  std::ostringstream out;
  out << std::hex << value;
  return out.str();
}

}  // namespace

std::string file_digest(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) io_error("cannot open", path);
  std::uint64_t hash = kFnvOffset;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hash = fnv1a(hash, buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  return hex(hash);
}

std::string model_digest(const std::filesystem::path& model) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(model)) return file_digest(model);
  if (fs::exists(model / "model.safetensors")) return file_digest(model / "model.safetensors");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(model)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".safetensors") || name == "model.safetensors.index.json")
      files.push_back(entry.path());
  }
  if (files.empty()) {
    throw mezo::Error(mezo::ErrorCode::io,
                      "no safetensors weights in '" + model.string() + "' to take a digest of");
  }
  std::sort(files.begin(), files.end());
  std::string digests;  // "name digest\n" per file: a changed, added or renamed file shows
  for (const auto& f : files) digests += f.filename().string() + " " + file_digest(f) + "\n";
  return hex(fnv1a(kFnvOffset, digests.data(), digests.size()));
}

MetricsLog::MetricsLog(const std::filesystem::path& path, std::int64_t first_step,
                       std::int64_t last_eval_step)
    : path_(path) {
  std::string kept;
  if (first_step > 0 && std::filesystem::exists(path)) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.contains("step")) continue;  // a torn last line
      if (j.at("step").get<std::int64_t>() >= first_step) continue;
      if (j.contains("after_steps") && j.at("after_steps").get<std::int64_t>() > last_eval_step)
        continue;
      kept += line + "\n";
    }
  }
  write_file_atomically(path, kept);
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) io_error("cannot open", path);
}

MetricsLog::~MetricsLog() {
  if (fd_ >= 0) {
    ::fsync(fd_);
    ::close(fd_);
  }
}

void MetricsLog::append(const nlohmann::json& record) {
  write_all(fd_, record.dump() + "\n", path_);
}

}  // namespace sst2
