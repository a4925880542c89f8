#include "decoder_scorers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "mezo/error.hpp"

namespace sst2 {
namespace {

class NextTokenScorer final : public LabelScorer {
 public:
  NextTokenScorer(mezo::LanguageModel& model, const Candidates& candidates, std::int32_t pad)
      : LabelScorer(candidates.size()), model_(model), pad_(pad) {
    for (const auto& candidate : candidates) {
      if (candidate.size() != 1) {
        throw mezo::Error(mezo::ErrorCode::invalid_argument,
                          fmt::format("the next-token scorer needs single-token candidates, got "
                                      "one of {} tokens",
                                      candidate.size()));
      }
      ids_.push_back(candidate[0]);
    }
  }
  const char* name() const override { return "lm"; }

  void score(std::span<const EncodedExample* const> examples, std::vector<float>& logits) override {
    const auto batch = to_batch(examples, pad_);
    queries_.clear();
    for (std::size_t i = 0; i < examples.size(); ++i)
      queries_.push_back({static_cast<std::int64_t>(i), examples[i]->query_position});
    logits.resize(examples.size() * num_labels());
    model_.logits(batch, queries_, ids_, logits);
  }

 private:
  mezo::LanguageModel& model_;
  std::int32_t pad_;
  std::vector<std::int32_t> ids_;
  std::vector<mezo::TokenQuery> queries_;
};

// The candidates an example is scored on: its own, else the shared ones.
const Candidates& candidates_of(const EncodedExample& e, const Candidates& shared,
                                std::size_t count) {
  const Candidates& c = e.candidates.empty() ? shared : e.candidates;
  if (c.size() != count) {
    throw mezo::Error(mezo::ErrorCode::invalid_argument,
                      fmt::format("an example has {} candidates; the task has {}", c.size(), count));
  }
  return c;
}

class SequenceScorer final : public LabelScorer {
 public:
  // `candidates` may be empty when every example brings its own (count of them).
  SequenceScorer(mezo::LanguageModel& model, Candidates candidates, std::int32_t pad,
                 std::size_t count)
      : LabelScorer(count), model_(model), candidates_(std::move(candidates)), pad_(pad) {
    for (const auto& candidate : candidates_) {
      if (candidate.empty())
        throw mezo::Error(mezo::ErrorCode::invalid_argument, "a candidate has no tokens");
    }
  }
  const char* name() const override { return "lm"; }

  void score(std::span<const EncodedExample* const> examples, std::vector<float>& logits) override {
    // Row (i, k): example i's prompt up to its query position, then the
    // candidate's tokens but the last. Query j of the row sits before the
    // candidate's token j, so its next-token logits score that token.
    rows_.clear();
    queries_.clear();
    targets_.clear();
    for (const EncodedExample* e : examples) {
      const auto prompt_end = e->ids.begin() + e->query_position + 1;
      for (const auto& candidate : candidates_of(*e, candidates_, num_labels())) {
        if (candidate.empty())
          throw mezo::Error(mezo::ErrorCode::invalid_argument, "a candidate has no tokens");
        const auto row = static_cast<std::int64_t>(rows_.size());
        rows_.emplace_back(e->ids.begin(), prompt_end);
        rows_.back().insert(rows_.back().end(), candidate.begin(), candidate.end() - 1);
        for (std::size_t j = 0; j < candidate.size(); ++j) {
          queries_.push_back({row, e->query_position + static_cast<std::int64_t>(j)});
          targets_.push_back(candidate[j]);
        }
      }
    }
    const std::size_t vocab = static_cast<std::size_t>(model_.vocab_size());
    full_.resize(queries_.size() * vocab);
    model_.logits(mezo::TokenBatch::pad(rows_, pad_), queries_, {}, full_);

    logits.resize(examples.size() * num_labels());
    std::size_t q = 0;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      const Candidates& c = candidates_of(*examples[i], candidates_, num_labels());
      for (std::size_t k = 0; k < num_labels(); ++k) {
        double sum = 0.0;
        for (std::size_t j = 0; j < c[k].size(); ++j, ++q) {
          sum += log_probability(std::span(full_).subspan(q * vocab, vocab), targets_[q]);
        }
        logits[i * num_labels() + k] = static_cast<float>(sum / static_cast<double>(c[k].size()));
      }
    }
  }

 private:
  mezo::LanguageModel& model_;
  Candidates candidates_;
  std::int32_t pad_;
  std::vector<std::vector<std::int32_t>> rows_;
  std::vector<mezo::TokenQuery> queries_;
  std::vector<std::int32_t> targets_;
  std::vector<float> full_;
};

// Examples with their own candidates (a --task): a batch whose candidates are
// all single tokens is scored as the next-token scorer does, with the head
// rows of every id the batch needs (its raw logits, as that scorer returns);
// any other batch by the sequence scorer.
class PerExampleScorer final : public LabelScorer {
 public:
  PerExampleScorer(mezo::LanguageModel& model, std::size_t count, std::int32_t pad)
      : LabelScorer(count), model_(model), pad_(pad), sequence_(model, {}, pad, count) {}
  const char* name() const override { return "lm"; }

  void score(std::span<const EncodedExample* const> examples, std::vector<float>& logits) override {
    ids_.clear();
    for (const EncodedExample* e : examples) {
      for (const auto& candidate : candidates_of(*e, {}, num_labels())) {
        if (candidate.size() != 1) return sequence_.score(examples, logits);
        ids_.push_back(candidate[0]);
      }
    }
    std::sort(ids_.begin(), ids_.end());
    ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
    queries_.clear();
    for (std::size_t i = 0; i < examples.size(); ++i)
      queries_.push_back({static_cast<std::int64_t>(i), examples[i]->query_position});
    rows_.resize(examples.size() * ids_.size());
    model_.logits(to_batch(examples, pad_), queries_, ids_, rows_);
    logits.resize(examples.size() * num_labels());
    for (std::size_t i = 0; i < examples.size(); ++i) {
      for (std::size_t k = 0; k < num_labels(); ++k) {
        const std::int32_t id = examples[i]->candidates[k][0];
        const auto column = std::lower_bound(ids_.begin(), ids_.end(), id) - ids_.begin();
        logits[i * num_labels() + k] = rows_[i * ids_.size() + static_cast<std::size_t>(column)];
      }
    }
  }

 private:
  mezo::LanguageModel& model_;
  std::int32_t pad_;
  SequenceScorer sequence_;
  std::vector<std::int32_t> ids_;
  std::vector<mezo::TokenQuery> queries_;
  std::vector<float> rows_;
};

}  // namespace

double log_probability(std::span<const float> logits, std::int32_t id) {
  double max = -INFINITY;
  for (const float x : logits) max = std::max(max, static_cast<double>(x));
  double sum = 0.0;
  for (const float x : logits) sum += std::exp(static_cast<double>(x) - max);
  return static_cast<double>(logits[static_cast<std::size_t>(id)]) - max - std::log(sum);
}

std::unique_ptr<LabelScorer> make_lm_scorer(mezo::LanguageModel& model, Candidates candidates,
                                            std::int32_t pad) {
  const bool single = std::all_of(candidates.begin(), candidates.end(),
                                  [](const auto& c) { return c.size() == 1; });
  return single ? make_next_token_scorer(model, std::move(candidates), pad)
                : make_sequence_scorer(model, std::move(candidates), pad);
}

std::unique_ptr<LabelScorer> make_next_token_scorer(mezo::LanguageModel& model,
                                                    Candidates candidates, std::int32_t pad) {
  return std::make_unique<NextTokenScorer>(model, candidates, pad);
}

std::unique_ptr<LabelScorer> make_sequence_scorer(mezo::LanguageModel& model, Candidates candidates,
                                                  std::int32_t pad) {
  const std::size_t count = candidates.size();
  return std::make_unique<SequenceScorer>(model, std::move(candidates), pad, count);
}

std::unique_ptr<LabelScorer> make_per_example_scorer(mezo::LanguageModel& model,
                                                     std::size_t count, std::int32_t pad) {
  return std::make_unique<PerExampleScorer>(model, count, pad);
}

}  // namespace sst2
