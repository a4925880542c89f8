#include "demonstrations.hpp"

#include <fmt/format.h>

#include <random>

#include "mezo/data/labeled_text.hpp"
#include "mezo/error.hpp"

namespace sst2 {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, message);
}

// What the reference writes between demonstrations (its Dataset.train_sep,
// which no task of the paper overrides).
constexpr std::string_view kSeparator = "\n\n";

}  // namespace

std::vector<std::uint32_t> demonstration_seeds(std::size_t count) {
  // NumPy's legacy randint(0, 10000) on MT19937 seeded by np.random.seed(0)
  // (= std::mt19937(0), numpy_mt19937.hpp): a 32-bit draw masked to the
  // smallest all-ones mask covering 9,999 (2^14 − 1), redrawn while above it.
  std::mt19937 mt(0);
  std::vector<std::uint32_t> seeds;
  seeds.reserve(count);
  while (seeds.size() < count) {
    const auto draw = static_cast<std::uint32_t>(mt()) & 0x3FFFu;
    if (draw <= 9999) seeds.push_back(draw);
  }
  return seeds;
}

std::string demonstration(const Example& example) {
  if (example.label < 0 || static_cast<std::size_t>(example.label) >= example.verbalized.size()) {
    fail(fmt::format("example '{}' has no candidate {} to show as its answer",
                     example.text.substr(0, 60), example.label));
  }
  return stripped(example.verbalized[static_cast<std::size_t>(example.label)]);
}

std::vector<Example> with_demonstrations(const std::vector<Example>& queries,
                                         const std::vector<Example>& pool, int count,
                                         const std::vector<std::uint32_t>& seeds) {
  if (count < 1 || pool.size() < static_cast<std::size_t>(count)) {
    fail(fmt::format("{} demonstrations asked for, from {} training examples", count, pool.size()));
  }
  if (seeds.size() < queries.size())
    throw mezo::Error(mezo::ErrorCode::internal, "fewer demonstration seeds than examples");
  std::vector<std::string> shown;  // each pool example written out, once
  shown.reserve(pool.size());
  for (const Example& example : pool) shown.push_back(demonstration(example));
  std::vector<Example> out;
  out.reserve(queries.size());
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const auto order = mezo::numpy_permutation(pool.size(), seeds[i]);
    std::string prefix;
    for (int d = 0; d < count; ++d) {
      prefix += shown[order[static_cast<std::size_t>(d)]];
      prefix += kSeparator;
    }
    Example query = queries[i];
    query.text = prefix + query.text;
    for (std::string& verbalized : query.verbalized) verbalized = prefix + verbalized;
    out.push_back(std::move(query));
  }
  return out;
}

std::vector<Example> rendered_sst2(const std::vector<Example>& sentences,
                                   const PromptOptions& prompt) {
  const TemplateParts parts = split_template(prompt.template_text, /*mask_required=*/false);
  const std::string& after = parts.has_mask ? parts.between : parts.after;
  std::vector<Example> out;
  out.reserve(sentences.size());
  for (const Example& sentence : sentences) {
    Example e;
    e.text = parts.before + trimmed(sentence.text) + after;
    e.label = sentence.label;
    for (const std::string& word : prompt.label_words) e.verbalized.push_back(e.text + word);
    out.push_back(std::move(e));
  }
  return out;
}

RunData in_context(RunData data, int count, const std::string& task, const PromptOptions& prompt) {
  if (task == "sst2") {
    for (auto* split : {&data.train, &data.dev, &data.test}) *split = rendered_sst2(*split, prompt);
  }
  const auto seeds = demonstration_seeds(data.test.size() + data.dev.size());
  data.test = with_demonstrations(data.test, data.train, count, seeds);
  data.dev = with_demonstrations(
      data.dev, data.train, count,
      std::vector<std::uint32_t>(seeds.begin() + static_cast<std::ptrdiff_t>(data.test.size()),
                                 seeds.end()));
  data.description += fmt::format("; in context: {} demonstrations per example", count);
  return data;
}

}  // namespace sst2
