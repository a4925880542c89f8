// Reading a value out of an all-gathered byte buffer. Each rank's block is laid
// end to end after the others', so a header or a double may sit at any offset:
// memcpy reads it where a reinterpret_cast would be misaligned.
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace mpi_detail {

template <typename T>
T load(const std::byte* p) {
  static_assert(std::is_trivially_copyable_v<T>);
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

}  // namespace mpi_detail
MEZO_END_NAMESPACE
