#include "text/vocab_object.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

std::vector<std::string> tokens_by_id(const nlohmann::json& vocab, std::string_view where) {
  if (!vocab.is_object()) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("{} must be a JSON object mapping tokens to ids, not {}", where,
                            vocab.type_name()));
  }
  if (vocab.empty()) {
    throw Error(ErrorCode::invalid_format, fmt::format("{} holds an empty vocabulary", where));
  }
  std::int64_t max_id = -1;
  for (const auto& [token, value] : vocab.items()) {
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
        value.get<std::int64_t>() > std::numeric_limits<std::int32_t>::max()) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: the id of token \"{}\" must be a non-negative integer, not {}",
                              where, token, value.dump()));
    }
    if (token.empty()) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: the empty string is not a token", where));
    }
    max_id = std::max(max_id, value.get<std::int64_t>());
  }
  if (max_id >= static_cast<std::int64_t>(4 * vocab.size() + 1024)) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("{}: id {} is far beyond the vocabulary's {} entries", where, max_id,
                            vocab.size()));
  }
  std::vector<std::string> tokens(static_cast<std::size_t>(max_id) + 1);
  for (const auto& [token, value] : vocab.items()) {
    std::string& slot = tokens[value.get<std::size_t>()];
    if (!slot.empty()) {
      throw Error(ErrorCode::invalid_format,
                  fmt::format("{}: tokens \"{}\" and \"{}\" share id {}", where, slot, token,
                              value.get<std::int64_t>()));
    }
    slot = token;
  }
  return tokens;
}

}  // namespace detail
MEZO_END_NAMESPACE
