// GPT-2's byte-to-unicode spelling, which every byte-level BPE vocabulary
// (RoBERTa, GPT-2, Llama 3, SmolLM2, Qwen2) writes its tokens in: each byte is
// one printable code point, so a token is a string of bytes spelled visibly.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

// bytes_to_unicode(): printable Latin-1 bytes map to themselves, the other 68
// to U+0100 onwards in byte order (space → U+0120 'Ġ', newline → U+010A 'Ċ').
const std::array<char32_t, 256>& byte_to_unicode();

// The byte a code point spells, or -1 for a code point outside the map.
int unicode_to_byte(char32_t cp);

// The token spelling of raw bytes ("Ġgreat" for " great").
std::string byte_level_spelling(std::string_view bytes);

// Appends the bytes a token's spelling stands for. A code point outside the
// map (only in added tokens written by hand) is appended as its own UTF-8.
// `token` must be valid UTF-8.
void append_byte_level_bytes(std::string& out, std::string_view token);

}  // namespace detail
MEZO_END_NAMESPACE
