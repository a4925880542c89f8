#include "json_text.hpp"

#include <fmt/format.h>

#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

nlohmann::json parse_json_text(std::string_view bytes, const std::filesystem::path& path) {
  try {
    return nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(ErrorCode::invalid_format, fmt::format("'{}' is not valid JSON (byte offset {}): {}",
                                                       path.string(), e.byte, e.what()));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("'{}' is not JSON libmezo can read: {}", path.string(), e.what()));
  }
}

}  // namespace detail
MEZO_END_NAMESPACE
