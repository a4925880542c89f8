// Build-wide macros: symbol export, the ABI namespace and the host/device marker.
#pragma once

#include "mezo/version.hpp"

// Symbol visibility. A shared libmezo is built with hidden visibility and
// MEZO_BUILDING_SHARED; consumers of a shared build get MEZO_SHARED from the
// exported CMake target. A static build needs neither.
#if defined(MEZO_BUILDING_SHARED)
#if defined(_WIN32)
#define MEZO_API __declspec(dllexport)
#else
#define MEZO_API __attribute__((visibility("default")))
#endif
#elif defined(MEZO_SHARED) && defined(_WIN32)
#define MEZO_API __declspec(dllimport)
#else
#define MEZO_API
#endif

// Everything lives in an inline namespace named after the major version, so
// two incompatible libmezo builds linked into one program fail at link time
// instead of misbehaving at run time (the scheme fmt uses).
#define MEZO_ABI_NAMESPACE v0
#define MEZO_BEGIN_NAMESPACE \
  namespace mezo {           \
  inline namespace MEZO_ABI_NAMESPACE {
#define MEZO_END_NAMESPACE \
  }                        \
  }

// Functions shared verbatim by the CPU and the CUDA kernels.
#if defined(__CUDACC__)
#define MEZO_HOST_DEVICE __host__ __device__
#else
#define MEZO_HOST_DEVICE
#endif
