// For the small byte-level vocabularies tests and fuzz targets build (no
// GoogleTest here: the fuzz targets include it too).
#pragma once

#include <string>

namespace mezo_test {

// GPT-2's byte-to-unicode spelling of one byte (bytes_to_unicode() in its
// encoder.py), written independently of the library's.
inline std::string byte_token(int b) {
  const auto printable = [](int x) {
    return (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE;
  };
  int cp = b;
  if (!printable(b)) {
    cp = 256;
    for (int x = 0; x < b; ++x) cp += printable(x) ? 0 : 1;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

}  // namespace mezo_test
