// GGUF: a whole .gguf file (header, metadata of every value type, tensor
// infos, data). Every key is read back through its typed getter and every
// tensor of a decoded type as fp32; an accepted file, written again by
// write_gguf (its tensors as F32), must read back equal.
#include <bit>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../fuzz_target.hpp"
#include "io/gguf_dequantize.hpp"
#include "mezo/io/gguf.hpp"

namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::logic_error(what);
}

bool same_double(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b) ||
         (std::isnan(a) && std::isnan(b));
}

bool same_value(const mezo::GgufValue& a, const mezo::GgufValue& b) {
  if (a.type != b.type || a.element_type != b.element_type || a.integer != b.integer ||
      a.unsigned_integer != b.unsigned_integer || a.string != b.string ||
      a.strings != b.strings || a.integers != b.integers || a.floats.size() != b.floats.size() ||
      !same_double(a.number, b.number)) {
    return false;
  }
  for (std::size_t i = 0; i < a.floats.size(); ++i) {
    if (!same_double(a.floats[i], b.floats[i])) return false;
  }
  return true;
}

// Each typed getter agrees with the value it returns for.
void read_through_getters(const mezo::GgufFile& file, const std::string& key,
                          const mezo::GgufValue& v) {
  using T = mezo::GgufValueType;
  switch (v.type) {
    case T::string:
      check(&file.get_string(key) == &v.string, "get_string disagrees with metadata()");
      return;
    case T::boolean:
      check(file.get_bool(key) == (v.integer != 0), "get_bool disagrees with metadata()");
      return;
    case T::float32:
    case T::float64:
      check(same_double(file.get_float(key), v.number), "get_float disagrees with metadata()");
      return;
    case T::array:
      if (v.element_type == T::string) {
        check(&file.get_strings(key) == &v.strings, "get_strings disagrees with metadata()");
      } else if (v.element_type == T::float32 || v.element_type == T::float64) {
        check(&file.get_floats(key) == &v.floats, "get_floats disagrees with metadata()");
      } else {
        check(&file.get_integers(key) == &v.integers, "get_integers disagrees with metadata()");
      }
      return;
    default:  // integers: get_uint refuses only negative ones
      try {
        const std::uint64_t u = file.get_uint(key);
        check(u == v.unsigned_integer, "get_uint disagrees with metadata()");
      } catch (const mezo::Error&) {
        check(v.type != T::uint64 && v.integer < 0, "get_uint refused a non-negative integer");
      }
      return;
  }
}

}  // namespace

MEZO_FUZZ_TARGET(gguf) {
  return refuse_quietly([&] {
    const auto path = write_scratch("model.gguf", as_text(data, size));
    const auto file = mezo::GgufFile::open(path);
    for (const auto& [key, value] : file.metadata()) {
      check(file.find(key) == &value, "find() disagrees with metadata()");
      read_through_getters(file, key, value);
    }

    std::vector<mezo::GgufTensorToWrite> rewrite;
    std::vector<std::vector<float>> values;
    values.reserve(file.tensors().size());
    for (const auto& tensor : file.tensors()) {
      check(file.find_tensor(tensor.name) == &tensor, "find_tensor() disagrees with tensors()");
      // No block type packs more than 4 elements in a byte (Q2_K: 256 in
      // 84), and a tensor's bytes lie within the file: a larger tensor
      // should have been refused by open() already.
      check(tensor.num_elements() <= 4 * size && tensor.num_bytes <= size,
            "open() accepted a tensor larger than the file");
      std::vector<float> out(tensor.num_elements());
      if (!mezo::detail::can_dequantize(tensor.type)) {
        try {
          file.read_f32(tensor, out);
        } catch (const mezo::Error&) {
          continue;  // a type open() knows but read_f32 does not decode
        }
        throw std::logic_error("read_f32 decoded a type it does not claim to decode");
      }
      file.read_f32(tensor, out);
      values.push_back(std::move(out));
      rewrite.push_back({tensor.name, tensor.shape(), values.back(), mezo::GgmlType::f32});
    }

    // What was accepted must survive our own writer and reader.
    const auto again_path = mezo_fuzz::scratch_dir() / "rewrite.gguf";
    try {
      mezo::write_gguf(again_path, file.metadata(), rewrite);
    } catch (const mezo::Error& e) {
      throw std::logic_error(std::string("write_gguf refused what open() accepted: ") + e.what());
    }
    const auto again = [&] {
      try {
        return mezo::GgufFile::open(again_path);
      } catch (const mezo::Error& e) {
        throw std::logic_error(std::string("open() refused what write_gguf wrote: ") + e.what());
      }
    }();
    check(again.metadata().size() == file.metadata().size(), "metadata count changed");
    for (std::size_t i = 0; i < file.metadata().size(); ++i) {
      check(again.metadata()[i].first == file.metadata()[i].first, "a key changed");
      check(same_value(again.metadata()[i].second, file.metadata()[i].second),
            "a metadata value changed");
    }
    check(again.tensors().size() == rewrite.size(), "tensor count changed");
    std::vector<float> out;
    for (std::size_t i = 0; i < rewrite.size(); ++i) {
      const auto& t = again.tensors()[i];
      check(t.name == rewrite[i].name && t.shape() == rewrite[i].shape, "a tensor info changed");
      out.resize(t.num_elements());
      again.read_f32(t, out);
      check(std::memcmp(out.data(), values[i].data(), out.size() * sizeof(float)) == 0,
            "a tensor's values changed");
    }
  });
}
