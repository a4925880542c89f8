#include <utility>

#include "model/peft/peft_state.hpp"

MEZO_BEGIN_NAMESPACE
namespace model {

std::uint64_t PeftBuffer::add(std::string name, std::uint64_t size) {
  const std::uint64_t offset = buffer_.size();
  entries_.push_back({std::move(name), offset, size, nullptr});
  buffer_.resize(buffer_.size() + size, 0.0f);  // may move the buffer: re-index
  index();
  return offset;
}

void PeftBuffer::add_external(std::string name, float* data, std::uint64_t size) {
  entries_.push_back({std::move(name), 0, size, data});
  index();
}

// The views in the order the tensors were added: that order numbers the
// elements z is drawn for, so it must only ever grow at the end.
void PeftBuffer::index() {
  params_ = ParamSet();
  for (const Entry& e : entries_) {
    params_.add(e.name, e.external != nullptr ? e.external : buffer_.data() + e.offset, e.size);
  }
}

}  // namespace model
MEZO_END_NAMESPACE
