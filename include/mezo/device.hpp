// Where parameter memory lives and how its elements are stored.
#pragma once

#include <cstddef>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE

enum class Device { cpu, cuda };
enum class DType { f32 };

MEZO_API const char* to_string(Device device) noexcept;
MEZO_API const char* to_string(DType dtype) noexcept;
MEZO_API std::size_t size_of(DType dtype) noexcept;

// True when this libmezo was built with its CUDA backend.
MEZO_API bool cuda_backend_available() noexcept;

MEZO_END_NAMESPACE
