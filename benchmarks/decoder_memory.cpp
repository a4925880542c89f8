// Peak resident memory of decoder work, one measurement per process (peak RSS
// only grows, so each mode runs alone):
//
//   decoder_memory inference SHAPE ROWS SEQ   three forwards of the prompt loss
//   decoder_memory step SHAPE ROWS SEQ        three MeZO steps (no journal)
//   decoder_memory load FILE.gguf             CausalLM::load, with its time
//
// SHAPE is smollm2-135m, qwen2.5-0.5b or llama-3.2-1b (random weights). Prints
// one JSON line: the mode, the fp32 parameter bytes, the peak RSS, the seconds.
// A step must hold what inference holds (MeZO's claim); a load must not hold a
// second full fp32 copy nor the file's mapping at the end.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "decoder_shapes.hpp"
#include "mezo/mezo.hpp"
#include "mezo/model/causal_lm.hpp"

namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

int usage() {
  std::fprintf(
      stderr, "usage: decoder_memory (inference|step) SHAPE ROWS SEQ | decoder_memory load FILE\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string mode = argv[1];
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t parameters = 0;
  if (mode == "load") {
    const auto model = mezo::CausalLM::load(argv[2]);
    parameters = model.params().num_elements();
  } else if ((mode == "inference" || mode == "step") && argc == 5) {
    auto model = mezo::CausalLM::random(bench::decoder_shape(argv[2]), 7);
    parameters = model.params().num_elements();
    const std::int64_t rows = std::stoll(argv[3]), seq = std::stoll(argv[4]);
    const auto batch = bench::decoder_random_batch(rows, seq, model.vocab_size());
    std::vector<mezo::TokenQuery> queries;
    std::vector<std::int32_t> labels;
    for (std::int64_t r = 0; r < rows; ++r)
      queries.push_back({r, seq - 1}), labels.push_back(r % 2);
    std::vector<float> logits(queries.size() * 2);
    const mezo::CrossEntropy ce;
    const auto loss = [&] {
      model.logits(batch, queries, bench::kDecoderLabelWords, logits);
      return ce({logits.data(), rows, 2}, labels);
    };
    mezo::ZoSgd opt({.lr = 1e-6f, .eps = 1e-3f});
    for (std::uint64_t i = 0; i < 3; ++i) {
      if (mode == "inference") {
        loss();
      } else {
        mezo::step(model.params(), opt, loss, i + 1, {.exact_restore = false});
      }
    }
  } else {
    return usage();
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf(
      "{\"mode\": \"%s\", \"what\": \"%s\", \"parameter_mb\": %.1f, \"peak_rss_mb\": %.1f, "
      "\"seconds\": %.2f}\n",
      mode.c_str(), argv[2], static_cast<double>(parameters) * 4.0 / 1e6 / 1.048576, peak_rss_mb(),
      took.count());
  return 0;
}
