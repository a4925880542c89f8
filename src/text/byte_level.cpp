#include "text/byte_level.hpp"

#include "text/unicode.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

namespace {

std::array<char32_t, 256> make_byte_to_unicode() {
  std::array<char32_t, 256> map{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    map[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return map;
}

// The inverse over U+0000..U+01FF, which holds the whole image of the map.
std::array<short, 512> make_unicode_to_byte() {
  std::array<short, 512> inverse{};
  inverse.fill(-1);
  const auto& map = byte_to_unicode();
  for (int b = 0; b < 256; ++b) inverse[map[b]] = static_cast<short>(b);
  return inverse;
}

}  // namespace

const std::array<char32_t, 256>& byte_to_unicode() {
  static const std::array<char32_t, 256> map = make_byte_to_unicode();
  return map;
}

int unicode_to_byte(char32_t cp) {
  static const std::array<short, 512> inverse = make_unicode_to_byte();
  return cp < inverse.size() ? inverse[cp] : -1;
}

std::string byte_level_spelling(std::string_view bytes) {
  const auto& map = byte_to_unicode();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) append_utf8(out, map[static_cast<unsigned char>(c)]);
  return out;
}

void append_byte_level_bytes(std::string& out, std::string_view token) {
  for (const char32_t cp : decode_utf8(token, "token").cps) {
    const int b = unicode_to_byte(cp);
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
    } else {
      append_utf8(out, cp);
    }
  }
}

}  // namespace detail
MEZO_END_NAMESPACE
