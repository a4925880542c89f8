// The decoder scorers' math (examples/sst2/decoder_scorers.hpp) on a tiny
// random Llama: the next-token shortcut gives the cross-entropy of the mean
// log-probabilities for single-token candidates, and the sequence scorer's
// mean log-probabilities of multi-token candidates equal a computation done
// by hand from the full-vocabulary logits of each whole sequence alone; on
// SmolLM2-135M-Instruct the whole decoder task (prompt, ids, both heads)
// gives transformers' figures.
#include "decoder_scorers.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "mezo/error.hpp"
#include "mezo/model/causal_lm.hpp"
#include "mezo/objective.hpp"
#include "mezo/text/tokenizer.hpp"
#include "real_model_support.hpp"
#include "task.hpp"

namespace {

constexpr std::int64_t kVocab = 61;

mezo::CausalLM tiny_decoder() {
  mezo::DecoderConfig c;
  c.vocab_size = kVocab;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 8;
  c.intermediate_size = 48;
  c.max_position_embeddings = 64;
  c.tie_word_embeddings = true;
  return mezo::CausalLM::random(c, 7, {.num_threads = 1});
}

// Prompts of different lengths (padding and rows must not matter).
std::vector<sst2::EncodedExample> prompts() {
  std::vector<sst2::EncodedExample> out;
  const std::vector<std::vector<std::int32_t>> ids = {
      {5, 17, 33, 2, 40}, {9, 1}, {12, 60, 7, 7, 31, 44, 8, 19}, {3}};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    out.push_back({ids[i], static_cast<std::int64_t>(ids[i].size()) - 1,
                   static_cast<std::int32_t>(i % 2)});
  }
  return out;
}

std::vector<const sst2::EncodedExample*> pointers(const std::vector<sst2::EncodedExample>& v) {
  std::vector<const sst2::EncodedExample*> out;
  for (const auto& e : v) out.push_back(&e);
  return out;
}

std::vector<float> scores(sst2::LabelScorer& scorer, const std::vector<sst2::EncodedExample>& v) {
  std::vector<float> out;
  scorer.score(pointers(v), out);
  return out;
}

float cross_entropy(const std::vector<float>& logits, const std::vector<sst2::EncodedExample>& v,
                    std::int64_t labels) {
  std::vector<std::int32_t> y;
  for (const auto& e : v) y.push_back(e.label);
  return mezo::CrossEntropy()({logits.data(), static_cast<std::int64_t>(v.size()), labels}, y);
}

// Mean log-probability of `candidate` after `prompt`, by hand: the whole
// sequence alone in a batch, every position's full-vocabulary logits, a
// log-softmax in long double.
double mean_log_prob_by_hand(mezo::CausalLM& model, const std::vector<std::int32_t>& prompt,
                             const std::vector<std::int32_t>& candidate) {
  std::vector<std::int32_t> sequence = prompt;
  sequence.insert(sequence.end(), candidate.begin(), candidate.end());
  const std::vector<std::vector<std::int32_t>> rows = {sequence};
  const auto batch = mezo::TokenBatch::pad(rows, 0);
  std::vector<mezo::TokenQuery> queries;
  for (std::size_t p = 0; p + 1 < sequence.size(); ++p)
    queries.push_back({0, static_cast<std::int64_t>(p)});
  std::vector<float> logits(queries.size() * kVocab);
  model.logits(batch, queries, {}, logits);
  long double total = 0;
  for (std::size_t j = 0; j < candidate.size(); ++j) {
    const std::size_t q = prompt.size() - 1 + j;  // the position before candidate token j
    const float* row = &logits[q * kVocab];
    long double sum = 0;
    for (std::int64_t v = 0; v < kVocab; ++v) sum += std::exp(static_cast<long double>(row[v]));
    total += static_cast<long double>(row[candidate[j]]) - std::log(sum);
  }
  return static_cast<double>(total / static_cast<long double>(candidate.size()));
}

TEST(DecoderScorers, LogProbabilityOfAHandVector) {
  // softmax(0, ln 2, ln 3) = (1/6, 2/6, 3/6).
  const std::vector<float> logits = {0.0f, std::log(2.0f), std::log(3.0f)};
  EXPECT_NEAR(sst2::log_probability(logits, 2), std::log(0.5), 1e-7);
  EXPECT_NEAR(sst2::log_probability(logits, 0), std::log(1.0 / 6.0), 1e-7);
  // Large logits must not overflow.
  const std::vector<float> big = {1000.0f, 1000.0f};
  EXPECT_NEAR(sst2::log_probability(big, 1), std::log(0.5), 1e-7);
}

// Single-token candidates: the next-token scorer's raw logits z_k and the
// sequence scorer's mean log-probabilities s_k differ by one constant per
// example (log Σ exp over the vocabulary), so their cross-entropies and
// predictions agree.
TEST(DecoderScorers, SingleTokenShortcutIsTheCrossEntropyOfMeanLogProbs) {
  auto model = tiny_decoder();
  const sst2::Candidates candidates = {{13}, {50}};
  const auto examples = prompts();
  const auto z = scores(*sst2::make_next_token_scorer(model, candidates, 0), examples);
  const auto s = scores(*sst2::make_sequence_scorer(model, candidates, 0), examples);
  ASSERT_EQ(z.size(), examples.size() * 2);
  ASSERT_EQ(s.size(), z.size());
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const double shift0 = double(z[2 * i]) - s[2 * i], shift1 = double(z[2 * i + 1]) - s[2 * i + 1];
    EXPECT_NEAR(shift0, shift1, 1e-5) << "example " << i;
    EXPECT_GT(shift0, 0.0) << "a log-probability is not below the logit";
    for (int k = 0; k < 2; ++k) {
      EXPECT_NEAR(s[2 * i + k], mean_log_prob_by_hand(model, examples[i].ids, candidates[k]), 1e-5)
          << "example " << i << " candidate " << k;
    }
  }
  EXPECT_NEAR(cross_entropy(z, examples, 2), cross_entropy(s, examples, 2), 1e-6);
  // The shortcut is what make_lm_scorer picks for single tokens, bit for bit.
  EXPECT_EQ(scores(*sst2::make_lm_scorer(model, candidates, 0), examples), z);
}

// Multi-token candidates of different lengths: the sequence scorer's scores
// are the mean log-probabilities, position by position, as by hand.
TEST(DecoderScorers, MultiTokenCandidatesScoreMeanLogProbabilities) {
  auto model = tiny_decoder();
  const sst2::Candidates candidates = {{13, 4, 27}, {50}, {6, 6}};
  const auto examples = prompts();
  const auto s = scores(*sst2::make_sequence_scorer(model, candidates, 0), examples);
  ASSERT_EQ(s.size(), examples.size() * 3);
  for (std::size_t i = 0; i < examples.size(); ++i) {
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_NEAR(s[3 * i + k], mean_log_prob_by_hand(model, examples[i].ids, candidates[k]), 1e-5)
          << "example " << i << " candidate " << k;
    }
  }
  // Mean, not sum: a 3-token candidate scored by its sum would sit far lower.
  EXPECT_EQ(scores(*sst2::make_lm_scorer(model, candidates, 0), examples), s);
  EXPECT_THROW(sst2::make_next_token_scorer(model, candidates, 0), mezo::Error);
}

// A batch is scored as its examples one by one: no example's score depends
// on the others it is padded with.
TEST(DecoderScorers, ScoresDoNotDependOnTheBatch) {
  auto model = tiny_decoder();
  const sst2::Candidates candidates = {{13, 4}, {50}};
  const auto examples = prompts();
  auto scorer = sst2::make_sequence_scorer(model, candidates, 0);
  const auto together = scores(*scorer, examples);
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const auto alone = scores(*scorer, {examples[i]});
    EXPECT_NEAR(alone[0], together[2 * i], 1e-5);
    EXPECT_NEAR(alone[1], together[2 * i + 1], 1e-5);
  }
}

// tests/fixtures/decoder/smollm2_reference.json ("sst2"): transformers on the
// same GGUF, prompt "it's a charming and often affecting journey. It was".
// Examples with their own candidates (a --task): single-token candidates
// that differ between examples give the next-token shortcut's raw logits, the
// mean log-probabilities up to a constant per example; multi-token ones give
// the mean log-probabilities themselves.
TEST(DecoderScorers, PerExampleCandidatesScoreMeanLogProbabilities) {
  auto model = tiny_decoder();
  auto examples = prompts();
  const std::vector<sst2::Candidates> single = {{{4}, {9}}, {{30}, {2}}, {{4}, {55}}, {{60}, {9}}};
  for (std::size_t i = 0; i < examples.size(); ++i) examples[i].candidates = single[i];
  const auto scorer = sst2::make_per_example_scorer(model, 2, 0);
  const auto s = scores(*scorer, examples);
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const double want = mean_log_prob_by_hand(model, examples[i].ids, single[i][1]) -
                        mean_log_prob_by_hand(model, examples[i].ids, single[i][0]);
    EXPECT_NEAR(s[2 * i + 1] - s[2 * i], want, 1e-5) << "example " << i;
  }
  const std::vector<sst2::Candidates> multi = {
      {{4, 8}, {9}}, {{30}, {2, 2, 7}}, {{4}, {55}}, {{60, 1}, {9, 3}}};
  for (std::size_t i = 0; i < examples.size(); ++i) examples[i].candidates = multi[i];
  const auto m = scores(*scorer, examples);
  for (std::size_t i = 0; i < examples.size(); ++i) {
    for (std::size_t k = 0; k < 2; ++k) {
      EXPECT_NEAR(m[2 * i + k], mean_log_prob_by_hand(model, examples[i].ids, multi[i][k]), 1e-5)
          << "example " << i << ", candidate " << k;
    }
  }
  examples[2].candidates.push_back({5});  // three candidates in a two-candidate task
  EXPECT_THROW(scores(*scorer, examples), mezo::Error);
}

TEST(DecoderScorers, SmolLM2MatchesTransformers) {
  REQUIRE_SMOLLM2_GGUF(gguf);
  const auto tokenizer = mezo::load_tokenizer(gguf);
  const auto model = mezo::load_model(gguf, {.num_threads = 2});
  sst2::TrainOptions o;
  o.model_dir = gguf;
  const sst2::Task task = sst2::make_task(*model, *tokenizer, o);
  const std::vector<sst2::EncodedExample> examples = {
      task.prompt->encode({"it's a charming and often affecting journey. ", 1})};
  EXPECT_EQ(examples[0].ids, (std::vector<std::int32_t>{269, 506, 253, 26597, 284, 1129, 7053,
                                                        3444, 30, 657, 436}));
  const auto logits = scores(*task.scorer, examples);  // the next-token head: ids 13321, 1109
  ASSERT_EQ(logits.size(), 2u);
  EXPECT_NEAR(logits[0], 4.95128, 2e-3) << "' terrible'";
  EXPECT_NEAR(logits[1], 8.468203, 2e-3) << "' great'";
  const auto log_probs =
      scores(*sst2::make_sequence_scorer(*model, {{13321}, {1109}}, 0), examples);
  EXPECT_NEAR(log_probs[0], -12.44659, 2e-3) << "' terrible'";
  EXPECT_NEAR(log_probs[1], -8.929667, 2e-3) << "' great'";
}

}  // namespace
