#include "mezo/device.hpp"

MEZO_BEGIN_NAMESPACE

const char* to_string(Device device) noexcept {
  switch (device) {
    case Device::cpu:
      return "cpu";
    case Device::cuda:
      return "cuda";
  }
  return "unknown";
}

const char* to_string(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32:
      return "f32";
    case DType::bf16:
      return "bf16";
  }
  return "unknown";
}

std::size_t size_of(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::bf16:
      return 2;
  }
  return 0;
}

bool cuda_backend_available() noexcept {
#if defined(MEZO_WITH_CUDA)
  return true;
#else
  return false;
#endif
}

MEZO_END_NAMESPACE
