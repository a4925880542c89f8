// A GLUE single-sentence TSV (sentence<TAB>label lines).
#include "../fuzz_target.hpp"
#include "mezo/data/labeled_text.hpp"

MEZO_FUZZ_TARGET(labeled_tsv) {
  return refuse_quietly([&] {
    mezo::TsvOptions options;
    options.num_labels = static_cast<std::int32_t>(size % 3) + 1;
    auto examples = mezo::read_labeled_tsv(write_scratch("train.tsv", as_text(data, size)), options);
    if (examples.empty()) throw std::logic_error("read_labeled_tsv accepted a file with no examples");
    for (const auto& e : examples) {
      if (e.label < 0 || e.label >= options.num_labels) throw std::logic_error("label out of range accepted");
    }
  });
}
