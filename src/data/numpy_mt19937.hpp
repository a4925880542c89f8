// NumPy's legacy global random state (np.random.seed / np.random.shuffle,
// i.e. RandomState with MT19937), reproduced bit for bit for the k-shot
// splits LM-BFF generated with it.
//
// - np.random.seed(s) with an integer s in [0, 2^32) is mt19937_seed(s), the
//   reference init_genrand(s): key[0] = s, key[i] = 1812433253 *
//   (key[i-1] ^ (key[i-1] >> 30)) + i. std::mt19937(s) is specified to seed
//   the same way and to temper its outputs as the reference genrand_int32
//   does, so its outputs are NumPy's 32-bit draws (checked in
//   tests/kshot_split_test.cpp against values NumPy printed).
// - NumPy's 64-bit draw from MT19937 is (first 32-bit draw << 32) | second.
// - shuffle(x) of a list is Fisher–Yates from the end: for i = n−1 down to 1,
//   j = random_interval(i), swap x[i] and x[j]. random_interval(max) takes the
//   smallest all-ones mask >= max and draws (32-bit draws when max fits in
//   32 bits, else 64-bit draws) & mask until the value is <= max.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "mezo/config.hpp"

MEZO_BEGIN_NAMESPACE
namespace detail {

class NumpyLegacyRandom {
 public:
  explicit NumpyLegacyRandom(std::uint32_t seed) : mt_(seed) {}

  std::uint32_t next_uint32() { return static_cast<std::uint32_t>(mt_()); }

  std::uint64_t next_uint64() {
    const std::uint64_t high = next_uint32();
    const std::uint64_t low = next_uint32();
    return (high << 32) | low;
  }

  // A uniform value in [0, max], as NumPy's random_interval.
  std::uint64_t random_interval(std::uint64_t max) {
    if (max == 0) return 0;
    std::uint64_t mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    std::uint64_t value;
    if (max <= 0xffffffffu) {
      do {
        value = next_uint32() & mask;
      } while (value > max);
    } else {
      do {
        value = next_uint64() & mask;
      } while (value > max);
    }
    return value;
  }

  // np.random.shuffle(x) for a Python list x.
  template <class T>
  void shuffle(std::vector<T>& x) {
    for (std::size_t i = x.size(); i-- > 1;) {
      const auto j = static_cast<std::size_t>(random_interval(i));
      using std::swap;
      swap(x[i], x[j]);
    }
  }

 private:
  std::mt19937 mt_;
};

}  // namespace detail
MEZO_END_NAMESPACE
