// Reading the fields of a Hugging Face config.json, each with a check whose
// error names the file and the field (shared by the encoder and decoder configs).
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// The fields of one config.json, each read with a check that names it.
class ConfigFields {
 public:
  ConfigFields(const nlohmann::json& root, std::string_view source)
      : root_(root), source_(source) {}

  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    throw Error(ErrorCode::invalid_format,
                fmt::format("{}: {}", source_, fmt::format(format, std::forward<Args>(args)...)));
  }

  const nlohmann::json* find(const char* name) const {
    const auto it = root_.find(name);
    return it == root_.end() ? nullptr : &*it;
  }

  const nlohmann::json& require(const char* name) const {
    const nlohmann::json* value = find(name);
    if (value == nullptr) fail("missing required field '{}'", name);
    return *value;
  }

  // An integer >= min.
  std::int64_t integer(const char* name, const nlohmann::json& value, std::int64_t min) const {
    const char* what = min > 0 ? "a positive integer" : "a non-negative integer";
    if (!value.is_number_integer()) fail("field '{}': expected {}, got {}", name, what, got(value));
    if (value.is_number_unsigned() &&
        value.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail("field '{}': {} is out of range", name, value.dump());
    }
    const auto v = value.get<std::int64_t>();
    if (v < min) fail("field '{}': expected {}, got {}", name, what, v);
    return v;
  }
  std::int64_t required_integer(const char* name, std::int64_t min) const {
    return integer(name, require(name), min);
  }
  std::int64_t optional_integer(const char* name, std::int64_t min, std::int64_t fallback) const {
    const nlohmann::json* value = find(name);
    return value == nullptr ? fallback : integer(name, *value, min);
  }

  std::optional<std::string> optional_string(const char* name) const {
    const nlohmann::json* value = find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) fail("field '{}': expected a string, got {}", name, got(*value));
    return value->get<std::string>();
  }

  bool optional_bool(const char* name, bool fallback) const {
    const nlohmann::json* value = find(name);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) fail("field '{}': expected true or false, got {}", name, got(*value));
    return value->get<bool>();
  }

  // A finite number > 0 that stays > 0 as a float.
  float optional_positive_float(const char* name, float fallback) const {
    const nlohmann::json* value = find(name);
    if (value == nullptr) return fallback;
    if (!value->is_number())
      fail("field '{}': expected a positive number, got {}", name, got(*value));
    const double v = value->get<double>();
    const auto f = static_cast<float>(v);
    if (!(v > 0) || !std::isfinite(f) || !(f > 0)) {
      fail("field '{}': expected a positive number representable as fp32, got {}", name,
           value->dump());
    }
    return f;
  }

 private:
  static std::string got(const nlohmann::json& value) {
    std::string text = value.dump();
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return fmt::format("{} {}", value.type_name(), text);
  }

  const nlohmann::json& root_;
  std::string_view source_;
};

// Parses config.json text into a JSON object, or throws naming `source`.
inline nlohmann::json parse_config_json(std::string_view text, std::string_view source) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e400
    throw Error(ErrorCode::invalid_format, fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  if (!root.is_object()) {
    throw Error(ErrorCode::invalid_format,
                fmt::format("{}: expected a JSON object, got {}", source, root.type_name()));
  }
  return root;
}

}  // namespace detail
MEZO_END_NAMESPACE
