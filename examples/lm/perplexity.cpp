#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <mezo/error.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"

namespace lm {

namespace {

using Sequence = std::vector<std::int32_t>;

[[noreturn]] void bad_input(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_format, message);
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw mezo::Error(mezo::ErrorCode::io, fmt::format("cannot open '{}'", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One sequence per non-empty line; every id checked against the vocabulary.
std::vector<Sequence> read_ids_file(const std::filesystem::path& path, std::int64_t vocab_size) {
  std::istringstream lines(read_text(path));
  std::vector<Sequence> sequences;
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    std::istringstream words(line);
    Sequence ids;
    for (std::string word; words >> word;) {
      std::size_t used = 0;
      long long id = -1;
      try {
        id = std::stoll(word, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != word.size() || id < 0 || id >= vocab_size) {
        bad_input(fmt::format("{}:{}: '{}' is not a token id in [0, {})", path.string(), number,
                              word, vocab_size));
      }
      ids.push_back(static_cast<std::int32_t>(id));
    }
    if (!ids.empty()) sequences.push_back(std::move(ids));
  }
  if (sequences.empty()) bad_input(fmt::format("'{}' holds no token ids", path.string()));
  return sequences;
}

// Consecutive windows of at most `context` tokens; each predicts all its
// tokens but the first from the ones before it in the window.
std::vector<Sequence> windows_of(const std::vector<Sequence>& sequences, std::int64_t context) {
  std::vector<Sequence> windows;
  for (const Sequence& s : sequences) {
    for (std::size_t begin = 0; begin < s.size(); begin += static_cast<std::size_t>(context)) {
      const std::size_t end = std::min(s.size(), begin + static_cast<std::size_t>(context));
      if (end - begin >= 2) windows.emplace_back(s.begin() + begin, s.begin() + end);
    }
  }
  return windows;
}

}  // namespace

int perplexity(const Common& common, const PerplexityOptions& options) {
  const Loaded loaded = load(common, /*with_model=*/true, !options.text_file.empty());
  mezo::LanguageModel& model = *loaded.model;
  if (model.family() != mezo::ModelFamily::causal_lm) {
    throw mezo::Error(
        mezo::ErrorCode::invalid_argument,
        fmt::format("'{}' is a {} ({}), not a causal LM: perplexity needs a "
                    "decoder that predicts the next token",
                    common.model.string(), mezo::to_string(model.family()), model.architecture()));
  }
  std::vector<Sequence> sequences;
  if (!options.ids_file.empty()) {
    sequences = read_ids_file(options.ids_file, model.vocab_size());
  } else {
    sequences.push_back(encode_for_model(*loaded.tokenizer, read_text(options.text_file)));
  }
  const std::int64_t context = options.context > 0
                                   ? std::min(options.context, model.max_sequence_length())
                                   : std::min<std::int64_t>(model.max_sequence_length(), 1024);
  const std::vector<Sequence> windows = windows_of(sequences, context);
  if (windows.empty()) bad_input("no window holds two tokens: nothing to predict");

  const auto V = static_cast<std::size_t>(model.vocab_size());
  const auto start = std::chrono::steady_clock::now();
  double nll_sum = 0.0;
  std::int64_t predicted = 0;
  std::vector<float> logits;
  for (std::size_t first = 0; first < windows.size();) {
    // The windows of this forward: at least one, up to batch_tokens tokens.
    std::size_t last = first + 1;
    std::int64_t tokens = static_cast<std::int64_t>(windows[first].size());
    while (last < windows.size() &&
           tokens + static_cast<std::int64_t>(windows[last].size()) <= options.batch_tokens) {
      tokens += static_cast<std::int64_t>(windows[last++].size());
    }
    const std::span<const Sequence> rows(windows.data() + first, last - first);
    const mezo::TokenBatch batch = mezo::TokenBatch::pad(rows, 0);
    std::vector<mezo::TokenQuery> queries;
    for (std::size_t r = 0; r < rows.size(); ++r)
      for (std::size_t t = 0; t + 1 < rows[r].size(); ++t)
        queries.push_back({static_cast<std::int64_t>(r), static_cast<std::int64_t>(t)});
    logits.resize(queries.size() * V);
    model.logits(batch, queries, {}, logits);
    for (std::size_t q = 0; q < queries.size(); ++q) {
      const std::span<const float> row(logits.data() + q * V, V);
      const std::int32_t target = rows[static_cast<std::size_t>(queries[q].row)]
                                      [static_cast<std::size_t>(queries[q].position) + 1];
      nll_sum += log_sum_exp(row) - static_cast<double>(row[static_cast<std::size_t>(target)]);
    }
    predicted += static_cast<std::int64_t>(queries.size());
    first = last;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    fmt::print(stderr, "perplexity: {}/{} windows, {} tokens predicted, nll {:.4f}, {:.1f} s\n",
               first, windows.size(), predicted, nll_sum / static_cast<double>(predicted),
               elapsed.count());
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  const double nll = nll_sum / static_cast<double>(predicted);
  const nlohmann::ordered_json result = {
      {"tokens", predicted},         {"nll", nll},
      {"perplexity", std::exp(nll)}, {"sequences", sequences.size()},
      {"windows", windows.size()},   {"context", context},
      {"seconds", elapsed.count()}};
  fmt::print("{}\n", result.dump());
  return 0;
}

}  // namespace lm
