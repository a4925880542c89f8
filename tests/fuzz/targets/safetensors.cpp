// safetensors: the 8-byte header length, the JSON header (dtypes, shapes,
// offsets, metadata) and the data section, read back as fp32.
#include <vector>

#include "../fuzz_target.hpp"
#include "mezo/io/safetensors.hpp"

MEZO_FUZZ_TARGET(safetensors) {
  return refuse_quietly([&] {
    auto file = mezo::SafetensorsFile::open(write_scratch("model.safetensors", as_text(data, size)));
    for (const auto& [key, value] : file.metadata()) (void)key.size(), (void)value.size();
    std::vector<float> out;
    for (const auto& tensor : file.tensors()) {
      if (file.find(tensor.name) != &tensor) throw std::logic_error("find() disagrees with tensors()");
      // The file is at most the fuzzer's max_len, so a valid tensor is small;
      // a lying shape must have been refused by open() already.
      out.resize(tensor.num_elements());
      try {
        file.read_f32(tensor, out);
      } catch (const mezo::Error&) {  // an integer dtype: refused, go on
      }
    }
  });
}
