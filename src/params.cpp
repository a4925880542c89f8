#include "mezo/params.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE

bool default_weight_decay_for(std::string_view param_name) noexcept {
  static constexpr std::array<std::string_view, 4> kNoDecay = {"bias", "LayerNorm", "layer_norm",
                                                               "layernorm"};
  return std::none_of(kNoDecay.begin(), kNoDecay.end(), [&](std::string_view marker) {
    return param_name.find(marker) != std::string_view::npos;
  });
}

ParamSet::ParamSet() : groups_{{"decay", true}, {"no_decay", false}} {}

std::size_t ParamSet::add(std::string name, float* data, std::uint64_t size, Device device) {
  const std::size_t group = default_weight_decay_for(name) ? decay_group : no_decay_group;
  return add(std::move(name), data, size, group, device);
}

std::size_t ParamSet::add(std::string name, float* data, std::uint64_t size, std::size_t group,
                          Device device) {
  return add_view(std::move(name), data, DType::f32, size, group, device);
}

std::size_t ParamSet::add_bf16(std::string name, std::uint16_t* data, std::uint64_t size,
                               Device device) {
  const std::size_t group = default_weight_decay_for(name) ? decay_group : no_decay_group;
  return add_bf16(std::move(name), data, size, group, device);
}

std::size_t ParamSet::add_bf16(std::string name, std::uint16_t* data, std::uint64_t size,
                               std::size_t group, Device device) {
  return add_view(std::move(name), data, DType::bf16, size, group, device);
}

std::size_t ParamSet::add_view(std::string name, void* data, DType dtype, std::uint64_t size,
                               std::size_t group, Device device) {
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "ParamSet::add: empty parameter name");
  if (data == nullptr && size != 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("ParamSet::add: parameter '{}' has {} elements but a null pointer",
                            name, size));
  }
  if (group >= groups_.size()) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("ParamSet::add: parameter '{}' names group {}, but only {} groups exist", name,
                    group, groups_.size()));
  }
  if (find(name) != nullptr) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("ParamSet::add: parameter '{}' was already added", name));
  }
  if (!views_.empty() && device != views_.front().device) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("ParamSet::add: parameter '{}' is on {}, but the set is on {}; one set "
                            "holds memory of one device",
                            name, to_string(device), to_string(views_.front().device)));
  }
  ParamView view;
  view.name = std::move(name);
  view.data = data;
  view.size = size;
  view.device = device;
  view.dtype = dtype;
  view.offset = num_elements_;
  view.group = group;
  views_.push_back(std::move(view));
  num_elements_ += size;
  return views_.size() - 1;
}

std::size_t ParamSet::add_group(std::string name, bool weight_decay) {
  groups_.push_back({std::move(name), weight_decay});
  return groups_.size() - 1;
}

const ParamView* ParamSet::find(std::string_view name) const {
  const auto it = std::find_if(views_.begin(), views_.end(),
                               [&](const ParamView& v) { return v.name == name; });
  return it == views_.end() ? nullptr : &*it;
}

Device ParamSet::device() const { return views_.empty() ? Device::cpu : views_.front().device; }

MEZO_END_NAMESPACE
