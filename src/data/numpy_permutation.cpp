// np.random.permutation(n) after np.random.seed(seed), for the data protocols
// that draw their examples with NumPy's legacy generator.
#include <numeric>

#include "data/numpy_mt19937.hpp"
#include "mezo/data/labeled_text.hpp"

MEZO_BEGIN_NAMESPACE

std::vector<std::size_t> numpy_permutation(std::size_t n, std::uint32_t seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  detail::NumpyLegacyRandom(seed).shuffle(order);  // permutation(n) is shuffle(arange(n))
  return order;
}

MEZO_END_NAMESPACE
