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

// Everything lives in an inline namespace derived from the version macros of
// mezo/version.hpp (the one place the version is written), so two
// ABI-incompatible libmezo builds linked into one program fail at link time
// instead of misbehaving at run time (the scheme fmt uses). While 0.x every
// minor version may break the ABI, so the name carries the minor version
// (v0_2), as the shared library's SOVERSION (0.2) does; from 1.0 on only a
// major version may, and the name is v1, v2, ...
#if MEZO_VERSION_MAJOR == 0
#define MEZO_ABI_NAMESPACE MEZO_ABI_NAME_(v0_, MEZO_VERSION_MINOR)
#else
#define MEZO_ABI_NAMESPACE MEZO_ABI_NAME_(v, MEZO_VERSION_MAJOR)
#endif
// Two levels, so that the version macro is expanded before it is pasted.
#define MEZO_ABI_NAME_(prefix, number) MEZO_ABI_PASTE_(prefix, number)
#define MEZO_ABI_PASTE_(prefix, number) prefix##number
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

MEZO_BEGIN_NAMESPACE

// MEZO_VERSION of the libmezo this program is running with. A program that
// loads a shared libmezo can compare it with the MEZO_VERSION it was compiled
// against (mezo/version.hpp): they differ when the library found at run time
// is another version than the headers were.
MEZO_API int version() noexcept;

MEZO_END_NAMESPACE
