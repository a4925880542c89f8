// CRC-32 (IEEE 802.3, the zlib/PNG polynomial), for record integrity checks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

std::uint32_t crc32(const void* data, std::size_t size);

}  // namespace detail
MEZO_END_NAMESPACE
