// The {token: id} JSON object of vocab.json and tokenizer.json's model.vocab.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// id → token; ids the object leaves out stay "" (no token). Throws
// mezo::Error naming `where` for a non-object, an empty object, an id that is
// not a non-negative 32-bit integer, an empty token, two tokens sharing an id,
// or ids far beyond the number of tokens (a huge allocation for nothing).
std::vector<std::string> tokens_by_id(const nlohmann::json& vocab, std::string_view where);

}  // namespace detail
MEZO_END_NAMESPACE
