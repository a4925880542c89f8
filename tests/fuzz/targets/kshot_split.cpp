// The k-shot split of a GLUE train TSV, and writing it out: k and the seed
// come from the input's first byte, the file from the rest.
#include "../fuzz_target.hpp"
#include "mezo/data/labeled_text.hpp"

MEZO_FUZZ_TARGET(kshot_split) {
  if (size == 0) return 0;
  const int k = data[0] % 4 + 1;
  const std::uint32_t seed = data[0] >> 2;
  return refuse_quietly([&] {
    auto train = write_scratch("glue_train.tsv", as_text(data + 1, size - 1));
    auto split = mezo::make_kshot_split(train, k, seed);
    if (split.train_lines.size() != split.dev_lines.size()) throw std::logic_error("unbalanced split");
    mezo::write_kshot_split(split, train, scratch_dir() / "split");
  });
}
