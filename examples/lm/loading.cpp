#include <fmt/format.h>

#include <chrono>
#include <mezo/model/language_model.hpp>

#include "commands.hpp"

namespace lm {

Loaded load(const Common& common, bool with_model, bool with_tokenizer) {
  Loaded loaded;
  if (with_tokenizer) loaded.tokenizer = mezo::load_tokenizer(common.model);
  if (!with_model) return loaded;
  fmt::print(stderr, "mezo-lm: loading {} ...\n", common.model.string());
  const auto start = std::chrono::steady_clock::now();
  loaded.model = mezo::load_model(
      common.model,
      {.num_threads = common.threads, .compute = mezo::parse_compute_precision(common.compute)});
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  fmt::print(stderr, "mezo-lm: {} {} with {} parameters, {} compute, loaded in {:.2f} s\n",
             loaded.model->architecture(), mezo::to_string(loaded.model->family()),
             loaded.model->params().num_elements(), common.compute, took.count());
  return loaded;
}

std::vector<std::int32_t> encode_for_model(const mezo::Tokenizer& tokenizer,
                                           const std::string& text) {
  std::vector<std::int32_t> ids;
  const mezo::SpecialTokens& special = tokenizer.special_tokens();
  if (special.add_begin && special.begin >= 0) ids.push_back(special.begin);
  const auto body = tokenizer.encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

}  // namespace lm
