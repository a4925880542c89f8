// Parameter views: named, non-owning windows onto the caller's own buffers.
//
// A ParamSet fixes a stable enumeration of every trainable element: views are
// numbered in the order they were added, and element j of the k-th view has the
// global index offset(k) + j. That index is the counter the perturbation
// generator uses, so the same ParamSet built in the same order reproduces the
// same z anywhere — on another thread count, on another device, after a
// restart. Renaming nothing, reordering nothing: order *is* the contract.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mezo/config.hpp"
#include "mezo/device.hpp"

MEZO_BEGIN_NAMESPACE

struct ParamView {
  std::string name;
  void* data = nullptr;    // not owned; must outlive every use of the set
  std::uint64_t size = 0;  // number of elements
  Device device = Device::cpu;
  DType dtype = DType::f32;
  std::uint64_t offset = 0;  // global index of element 0 (set by ParamSet)
  std::size_t group = 0;     // index into ParamSet::groups()

  float* f32() const { return static_cast<float*>(data); }
  std::uint16_t* bf16() const { return static_cast<std::uint16_t*>(data); }
  std::uint64_t bytes() const { return size * size_of(dtype); }
};

struct ParamGroup {
  std::string name;
  bool weight_decay = true;  // whether the optimizer's weight decay applies
};

// The default grouping rule of the MeZO reference code for OPT: no weight
// decay for biases and normalisation parameters.
MEZO_API bool default_weight_decay_for(std::string_view param_name) noexcept;

class MEZO_API ParamSet {
 public:
  // Two groups exist from the start: "decay" (index 0) and "no_decay" (1).
  ParamSet();

  // Adds a view, puts it in "decay" or "no_decay" by default_weight_decay_for,
  // and returns its index in views(). Throws mezo::Error for an empty name, a
  // null pointer with a non-zero size, a duplicate name, or a device that
  // differs from the views already added.
  std::size_t add(std::string name, float* data, std::uint64_t size, Device device = Device::cpu);

  // Adds a view to an explicit group (see add_group).
  std::size_t add(std::string name, float* data, std::uint64_t size, std::size_t group,
                  Device device = Device::cpu);

  // bfloat16 storage (mezo/bf16.hpp), otherwise as add(). Sets may mix f32
  // and bf16 views; the element numbering is the same whatever the dtype, so
  // a bf16 copy of an fp32 model draws the same z.
  std::size_t add_bf16(std::string name, std::uint16_t* data, std::uint64_t size,
                       Device device = Device::cpu);
  std::size_t add_bf16(std::string name, std::uint16_t* data, std::uint64_t size,
                       std::size_t group, Device device = Device::cpu);

  // Creates a group and returns its index.
  std::size_t add_group(std::string name, bool weight_decay);

  std::span<const ParamView> views() const { return views_; }
  std::span<const ParamGroup> groups() const { return groups_; }
  const ParamView* find(std::string_view name) const;

  std::uint64_t num_elements() const { return num_elements_; }
  bool empty() const { return num_elements_ == 0; }
  // Device of every view (cpu for an empty set).
  Device device() const;

  static constexpr std::size_t decay_group = 0;
  static constexpr std::size_t no_decay_group = 1;

 private:
  std::size_t add_view(std::string name, void* data, DType dtype, std::uint64_t size,
                       std::size_t group, Device device);

  std::vector<ParamView> views_;
  std::vector<ParamGroup> groups_;
  std::uint64_t num_elements_ = 0;
};

MEZO_END_NAMESPACE
