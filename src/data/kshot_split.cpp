// k-shot splits as LM-BFF's tools/generate_k_shot_data.py makes them for GLUE
// TSV tasks (the data of the MeZO paper's RoBERTa experiments):
//
//   train_header, train_lines = train_lines[0], train_lines[1:]
//   np.random.seed(seed); np.random.shuffle(train_lines)
//   group the lines by label in first-seen order
//   train.tsv = header + the first k lines of each group
//   dev.tsv   = header + the next k lines of each group
//   test.tsv  = the GLUE dev file
//
// Lines are handled as the script's text-mode Python sees them: CRLF endings
// become LF. (A train file without a final newline is where we differ: the
// script would glue its last line to the next one written; we end it.)
#include <fmt/format.h>

#include <cstddef>
#include <numeric>
#include <string>
#include <system_error>

#include "data/numpy_mt19937.hpp"
#include "data/tsv_parse.hpp"
#include "file_io.hpp"
#include "mezo/data/labeled_text.hpp"
#include "mezo/error.hpp"

MEZO_BEGIN_NAMESPACE

KShotSplit make_kshot_split(const std::filesystem::path& glue_train_tsv, int k, std::uint32_t seed,
                            const TsvOptions& options) {
  if (k < 1)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("k-shot split of {}: k must be at least 1, got {}",
                            glue_train_tsv.string(), k));
  const std::string bytes = detail::read_file(glue_train_tsv);
  const std::vector<detail::TsvLine> lines =
      detail::parse_labeled_tsv(bytes, glue_train_tsv, options);

  // Shuffling the indices performs the same swaps as shuffling the lines.
  std::vector<std::size_t> order(lines.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  detail::NumpyLegacyRandom(seed).shuffle(order);

  const auto num_labels = static_cast<std::size_t>(options.num_labels);
  std::vector<std::vector<std::size_t>> groups(num_labels);
  std::vector<std::int32_t> first_seen;
  for (std::size_t index : order) {
    const auto label = static_cast<std::size_t>(lines[index].label);
    if (groups[label].empty()) first_seen.push_back(lines[index].label);
    groups[label].push_back(index);
  }

  const auto per_split = static_cast<std::size_t>(k);
  std::string short_labels;
  for (std::size_t label = 0; label < num_labels; ++label) {
    if (groups[label].size() >= 2 * per_split) continue;
    short_labels += fmt::format("{}label {} has {} line{}", short_labels.empty() ? "" : "; ", label,
                                groups[label].size(), groups[label].size() == 1 ? "" : "s");
  }
  if (!short_labels.empty())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("k-shot split of {} with k = {}: {}, but each label needs 2k = {} "
                            "(k for train, k for dev)",
                            glue_train_tsv.string(), k, short_labels, 2 * per_split));

  KShotSplit split;
  split.train_lines.reserve(num_labels * per_split);
  split.dev_lines.reserve(num_labels * per_split);
  for (std::int32_t label : first_seen) {
    const std::vector<std::size_t>& group = groups[static_cast<std::size_t>(label)];
    for (std::size_t i = 0; i < per_split; ++i) split.train_lines.emplace_back(lines[group[i]].raw);
    for (std::size_t i = per_split; i < 2 * per_split; ++i)
      split.dev_lines.emplace_back(lines[group[i]].raw);
  }
  return split;
}

namespace {

std::string tsv_bytes(const std::vector<std::string>& lines, const char* which) {
  std::string out(detail::kGlueTsvHeader);
  out += '\n';
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_of("\r\n") != std::string::npos)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("KShotSplit::{}[{}] holds a line break; each entry must be one line",
                              which, i));
    out += lines[i];
    out += '\n';
  }
  return out;
}

}  // namespace

void write_kshot_split(const KShotSplit& split, const std::filesystem::path& glue_dev_tsv,
                       const std::filesystem::path& out_dir, const TsvOptions& options) {
  const std::string train = tsv_bytes(split.train_lines, "train_lines");
  const std::string dev = tsv_bytes(split.dev_lines, "dev_lines");
  const std::string test = detail::read_file(glue_dev_tsv);
  detail::parse_labeled_tsv(test, glue_dev_tsv, options);

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec)
    throw Error(ErrorCode::io, fmt::format("cannot create the directory '{}': {}", out_dir.string(),
                                           ec.message()));
  detail::write_file_atomically(out_dir / "train.tsv", train.data(), train.size());
  detail::write_file_atomically(out_dir / "dev.tsv", dev.data(), dev.size());
  detail::write_file_atomically(out_dir / "test.tsv", test.data(), test.size());
}

MEZO_END_NAMESPACE
