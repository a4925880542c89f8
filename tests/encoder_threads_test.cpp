// Thread-count determinism of the encoder at a real width: the shape of
// all-MiniLM-L6-v2, mezo-sst2's default model (6 layers, hidden 384, 12
// heads, intermediate 1536, vocabulary 30522), with random weights. On such a
// model 1 and 2 threads once gave different mean_pooled values for three
// short sentences: the small tests' models were too small for any product to
// be split across threads. A full batch of 16 × 64 and a batch of three ~10
// token sentences (every projection then one piece, the case that broke) must
// give the same bits on 1, 2 and 3 threads, through the forward and through
// MeZO steps: in fp32 and in bf16 compute (ComputePrecision).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <mezo/mezo.hpp>
#include <vector>

#include "test_support.hpp"

namespace {

mezo::TransformerConfig minilm_shape() {
  mezo::TransformerConfig c;
  c.model_type = mezo::ModelType::bert;
  c.vocab_size = 30522;
  c.hidden_size = 384;
  c.num_hidden_layers = 6;
  c.num_attention_heads = 12;
  c.intermediate_size = 1536;
  c.max_position_embeddings = 512;
  c.type_vocab_size = 2;
  return c;
}

// `rows` rows of lengths from `shortest` up (steps of 3), [CLS] ... [SEP],
// padded with 0.
mezo::TokenBatch batch_of(int rows, int shortest) {
  std::vector<std::vector<std::int32_t>> sequences;
  for (int r = 0; r < rows; ++r) {
    std::vector<std::int32_t> s = {101};
    const int length = shortest + 3 * r;
    for (int t = 1; t + 1 < length; ++t) s.push_back(1000 + (r * 7919 + t * 104729) % 29000);
    s.push_back(102);
    sequences.push_back(s);
  }
  return mezo::TokenBatch::pad(sequences, 0);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::uint64_t fnv1a(const mezo::ParamSet& params) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const mezo::ParamView& v : params.views()) {
    const auto* bytes = static_cast<const unsigned char*>(v.data);
    for (std::uint64_t i = 0; i < v.bytes(); ++i) h = (h ^ bytes[i]) * 0x100000001b3ull;
  }
  return h;
}

struct ThreadRun {
  std::vector<float> big_pooled, big_hidden, small_pooled, small_hidden;
  std::vector<float> losses;  // ℓ+ and ℓ− of every step, in order
  std::uint64_t weights_after = 0;
};

ThreadRun run_on(int threads, mezo::ComputePrecision compute) {
  const mezo::TransformerConfig config = minilm_shape();
  mezo::MaskedLM model =
      mezo::MaskedLM::random(config, 2024, {.num_threads = threads, .compute = compute});
  const mezo::TokenBatch big = batch_of(16, 64 - 3 * 15);  // 19 to 64 tokens: 16 × 64
  const mezo::TokenBatch small = batch_of(3, 8);           // 8, 11 and 14 tokens
  EXPECT_EQ(big.seq_len, 64);
  const auto h = static_cast<std::size_t>(config.hidden_size);
  ThreadRun run;
  run.big_pooled.resize(16 * h);
  model.mean_pooled(big, run.big_pooled);
  run.big_hidden.resize(static_cast<std::size_t>(big.rows * big.seq_len) * h);
  model.last_hidden_state(big, run.big_hidden);
  run.small_pooled.resize(3 * h);
  model.mean_pooled(small, run.small_pooled);
  run.small_hidden.resize(static_cast<std::size_t>(small.rows * small.seq_len) * h);
  model.last_hidden_state(small, run.small_hidden);

  // MeZO steps, as mezo-sst2 takes them: a masked-LM loss over two label
  // words at the [MASK] position of each row; the small batch first, then
  // the big one. (Random weights include an MLM head.)
  mezo::ZoSgd opt({.lr = 1e-4f, .eps = 1e-3f},
                  mezo::gaussian_perturbation({.num_threads = threads}));
  const std::vector<std::int32_t> label_words = {2204, 2919};  // "good", "bad"
  const mezo::CrossEntropy cross_entropy;
  for (const mezo::TokenBatch* batch : {&small, &small, &big}) {
    std::vector<mezo::MaskQuery> queries;
    std::vector<std::int32_t> labels;
    for (std::int64_t r = 0; r < batch->rows; ++r) {
      queries.push_back({r, batch->lengths[static_cast<std::size_t>(r)] - 2});
      labels.push_back(static_cast<std::int32_t>(r % 2));
    }
    std::vector<float> logits(queries.size() * label_words.size());
    const auto loss = [&] {
      model.mlm_logits(*batch, queries, label_words, logits);
      return cross_entropy({logits.data(), static_cast<std::int64_t>(queries.size()), 2}, labels);
    };
    const mezo::StepResult r =
        mezo::step(model.params(), opt, loss, 1000 + static_cast<std::uint64_t>(run.losses.size()));
    EXPECT_EQ(r.status, mezo::StepStatus::ok) << r.message;
    run.losses.push_back(r.loss_plus);
    run.losses.push_back(r.loss_minus);
  }
  run.weights_after = fnv1a(model.params());
  return run;
}

class EncoderAtRealWidth : public testing::TestWithParam<mezo::ComputePrecision> {};

TEST_P(EncoderAtRealWidth, ForwardAndStepBitsDoNotDependOnTheThreadCount) {
  SKIP_UNLESS_COMPUTE_AVAILABLE(GetParam());
  const ThreadRun one = run_on(1, GetParam());
  for (const int threads : {2, 3}) {
    SCOPED_TRACE(testing::Message() << "1 vs " << threads << " threads");
    const ThreadRun other = run_on(threads, GetParam());
    EXPECT_TRUE(same_bits(one.big_pooled, other.big_pooled)) << "mean_pooled, 16 × 64";
    EXPECT_TRUE(same_bits(one.big_hidden, other.big_hidden)) << "last_hidden_state, 16 × 64";
    EXPECT_TRUE(same_bits(one.small_pooled, other.small_pooled)) << "mean_pooled, 3 short rows";
    EXPECT_TRUE(same_bits(one.small_hidden, other.small_hidden))
        << "last_hidden_state, 3 short rows";
    EXPECT_TRUE(same_bits(one.losses, other.losses)) << "the steps' losses";
    EXPECT_EQ(one.weights_after, other.weights_after) << "the weights after the steps";
  }
}

INSTANTIATE_TEST_SUITE_P(Compute, EncoderAtRealWidth,
                         testing::Values(mezo::ComputePrecision::fp32,
                                         mezo::ComputePrecision::bf16),
                         [](const auto& info) { return mezo::to_string(info.param); });

}  // namespace
