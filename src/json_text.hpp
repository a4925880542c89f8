// Parsing the JSON files libmezo reads (vocab.json, tokenizer_config.json)
// into mezo::Error on any failure.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// Parses `bytes`, the contents of `path`. Throws mezo::Error(invalid_format)
// naming the file for anything nlohmann refuses: syntax errors (with their
// byte offset) and also numbers it cannot represent (`6E777...`), which it
// reports as out_of_range rather than parse_error.
nlohmann::json parse_json_text(std::string_view bytes, const std::filesystem::path& path);

}  // namespace detail
MEZO_END_NAMESPACE
