// Where parameter memory lives and how its elements are stored.
#pragma once

#include <cstddef>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

enum class Device { cpu, cuda };
// f32: IEEE float. bf16: bfloat16 (mezo/bf16.hpp), stored as std::uint16_t;
// passes over it compute in fp32 and round once per element when they store.
enum class DType { f32, bf16 };

MEZO_API const char* to_string(Device device) noexcept;
MEZO_API const char* to_string(DType dtype) noexcept;
MEZO_API std::size_t size_of(DType dtype) noexcept;

// True when this libmezo was built with its CUDA backend.
MEZO_API bool cuda_backend_available() noexcept;

MEZO_END_NAMESPACE
