#include <fmt/format.h>

#include "commands.hpp"

namespace lm {

// Valid multi-byte UTF-8 passes through; a byte that does not start or
// continue a valid sequence (a token that cuts a character) is shown as \xNN.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t length = c < 0x80         ? 1
                               : (c >> 5) == 6  ? 2
                               : (c >> 4) == 14 ? 3
                               : (c >> 3) == 30 ? 4
                                                : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t j = 1; valid && j < length; ++j)
      valid = (static_cast<unsigned char>(text[i + j]) & 0xC0) == 0x80;
    if (!valid) {
      out += fmt::format("\\x{:02X}", c);
      ++i;
    } else if (c == '\n') {
      out += "\\n", ++i;
    } else if (c == '\t') {
      out += "\\t", ++i;
    } else if (c == '"' || c == '\\') {
      out += '\\', out += static_cast<char>(c), ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02X}", c), ++i;
    } else {
      out.append(text, i, length), i += length;
    }
  }
  return out + "\"";
}

}  // namespace lm
