// CausalLM's properties on random decoders: the head evaluated only where
// asked, rows independent of their batch, causality, saving and loading,
// thread-count determinism at real width, and the errors for bad input.
// Parity with transformers and the real SmolLM2 are in causal_lm_parity_test.
#include <gtest/gtest.h>

#include <cmath>
#include <mezo/mezo.hpp>
#include <mezo/model/causal_lm.hpp>
#include <mezo/model/language_model.hpp>
#include <nlohmann/json.hpp>
#include <vector>

#include "decoder_test_support.hpp"
#include "test_support.hpp"

namespace {

using mezo_test::decoder_batch;
using mezo_test::error_of;
using mezo_test::every_position;
using mezo_test::tiny_llama_config;

std::vector<float> logits_of(mezo::LanguageModel& model, const mezo::TokenBatch& batch,
                             const std::vector<mezo::TokenQuery>& queries,
                             const std::vector<std::int32_t>& ids = {}) {
  const std::size_t columns =
      ids.empty() ? static_cast<std::size_t>(model.vocab_size()) : ids.size();
  std::vector<float> out(queries.size() * columns);
  model.logits(batch, queries, ids, out);
  return out;
}

TEST(CausalLM, AskedIdsAreColumnsOfTheFullLogitRow) {
  for (const bool tied : {true, false}) {
    auto model = mezo::CausalLM::random(tiny_llama_config(tied), 1, {.num_threads = 1});
    const auto batch = decoder_batch(3, 5, 7, 300);
    const auto queries = every_position(batch);
    const auto full = logits_of(model, batch, queries);
    const std::vector<std::int32_t> ids = {299, 0, 17, 17};
    const auto some = logits_of(model, batch, queries, ids);
    for (std::size_t q = 0; q < queries.size(); ++q)
      for (std::size_t j = 0; j < ids.size(); ++j)
        EXPECT_NEAR(some[q * ids.size() + j], full[q * 300 + ids[j]], 1e-5) << "tied " << tied;
  }
}

// A row's logits do not depend on the other rows of its batch or on padding.
TEST(CausalLM, RowsDoNotDependOnTheirBatch) {
  auto model = mezo::CausalLM::random(tiny_llama_config(), 2, {.num_threads = 1});
  const auto batch = decoder_batch(4, 6, 9, 300);
  const auto together = logits_of(model, batch, every_position(batch));
  std::size_t at = 0;
  for (std::int64_t r = 0; r < batch.rows; ++r) {
    const std::vector<std::vector<std::int32_t>> alone_rows = {
        std::vector<std::int32_t>(batch.ids.begin() + r * batch.seq_len,
                                  batch.ids.begin() + r * batch.seq_len + batch.lengths[r])};
    const auto alone_batch = mezo::TokenBatch::pad(alone_rows, 0);
    const auto alone = logits_of(model, alone_batch, every_position(alone_batch));
    for (std::size_t i = 0; i < alone.size(); ++i)
      ASSERT_NEAR(together[at + i], alone[i], 1e-5) << "row " << r;
    at += alone.size();
  }
}

// The logits at position p see tokens 0..p only.
TEST(CausalLM, LaterTokensDoNotChangeEarlierLogits) {
  auto model = mezo::CausalLM::random(tiny_llama_config(), 3, {.num_threads = 1});
  const auto batch = decoder_batch(1, 40, 0, 300);
  const auto full = logits_of(model, batch, every_position(batch));
  auto changed = batch;
  for (std::int64_t t = 20; t < 40; ++t) changed.ids[t] = (changed.ids[t] + 101) % 300;
  const auto after = logits_of(model, changed, every_position(changed));
  for (std::size_t i = 0; i < 20 * 300; ++i) ASSERT_EQ(full[i], after[i]) << "position " << i / 300;
  EXPECT_NE(full[25 * 300], after[25 * 300]) << "changing tokens changed nothing after them";
}

TEST(CausalLM, SavedFolderLoadsBackBitIdentical) {
  for (const bool tied : {true, false}) {
    mezo_test::TempDir dir;
    auto model = mezo::CausalLM::random(tiny_llama_config(tied), 4, {.num_threads = 1});
    model.save_pretrained(dir.path());
    auto loaded = mezo::CausalLM::load(dir.path(), {.num_threads = 1});
    mezo_test::expect_same_params(model, loaded);
    if (HasFatalFailure()) return;
    EXPECT_EQ(loaded.config().tie_word_embeddings, tied);
    // A tied head is stored once, as transformers does.
    const auto file = mezo::SafetensorsFile::open(dir / "model.safetensors");
    EXPECT_EQ(file.find("lm_head.weight") != nullptr, !tied);
    // load_model picks the decoder family from config.json.
    auto any = mezo::load_model(dir.path(), {.num_threads = 1});
    EXPECT_EQ(any->family(), mezo::ModelFamily::causal_lm);
    EXPECT_STREQ(any->architecture(), "llama");
  }
}

// An untied head starts as a copy of the tied embeddings and is saved as its own tensor.
TEST(CausalLM, UntiedHeadStartsAsTheEmbeddingsAndIsSavedUntied) {
  mezo_test::TempDir dir;
  auto tied = mezo::CausalLM::random(tiny_llama_config(true), 5, {.num_threads = 1});
  tied.save_pretrained(dir / "tied");
  auto untied = mezo::CausalLM::load(dir / "tied", {.num_threads = 1, .untie_head = true});
  EXPECT_EQ(untied.params().views().size(), tied.params().views().size() + 1);
  const auto& embed = *untied.params().find("model.embed_tokens.weight");
  const auto& head = *untied.params().find("lm_head.weight");
  EXPECT_EQ(0, std::memcmp(embed.data, head.data, embed.bytes()));
  untied.save_pretrained(dir / "untied");
  EXPECT_FALSE(mezo::load_decoder_config(dir / "untied" / "config.json").tie_word_embeddings);
}

// Thread-count determinism where it can break: SmolLM2's width, a batch of
// 16 × 64, every product cut into pieces; the forward and a MeZO step give the
// same bits on 1, 2 and 3 threads, in fp32 and in bf16 compute.
class CausalLMAtRealWidth : public testing::TestWithParam<mezo::ComputePrecision> {};

TEST_P(CausalLMAtRealWidth, ForwardAndStepBitsDoNotDependOnTheThreadCount) {
  SKIP_UNLESS_COMPUTE_AVAILABLE(GetParam());
  const auto config = mezo_test::smollm2_width_config();
  const auto batch = decoder_batch(16, 40, 2, config.vocab_size);  // 40..70 tokens
  std::vector<mezo::TokenQuery> last;
  for (std::int64_t r = 0; r < batch.rows; ++r) last.push_back({r, batch.lengths[r] - 1});
  const std::vector<std::int32_t> label_ids = {1109 % 2048, 1321};
  std::vector<std::vector<float>> logits, weights;
  for (int threads : {1, 2, 3}) {
    auto model = mezo::CausalLM::random(config, 6, {.num_threads = threads, .compute = GetParam()});
    logits.push_back(logits_of(model, batch, every_position(batch)));
    mezo::ZoSgd opt({.lr = 1e-3f, .eps = 1e-3f},
                    mezo::gaussian_perturbation({.num_threads = threads}));
    const auto loss = [&] {
      const auto scores = logits_of(model, batch, last, label_ids);
      double total = 0;
      for (std::size_t r = 0; r < last.size(); ++r) {
        const double a = scores[2 * r], b = scores[2 * r + 1];
        total += std::log1p(std::exp(a - b));  // cross-entropy with label 1
      }
      return static_cast<float>(total / static_cast<double>(last.size()));
    };
    const auto result = mezo::step(model.params(), opt, loss, 77);
    ASSERT_EQ(result.status, mezo::StepStatus::ok) << result.message;
    const auto& embed = *model.params().find("model.embed_tokens.weight");
    weights.emplace_back(embed.f32(), embed.f32() + embed.size);
  }
  for (std::size_t t = 1; t < 3; ++t) {
    EXPECT_EQ(0, std::memcmp(logits[0].data(), logits[t].data(), logits[0].size() * 4))
        << "logits on 1 and " << t + 1 << " threads differ";
    EXPECT_EQ(0, std::memcmp(weights[0].data(), weights[t].data(), weights[0].size() * 4))
        << "weights after a step on 1 and " << t + 1 << " threads differ";
  }
}

INSTANTIATE_TEST_SUITE_P(Compute, CausalLMAtRealWidth,
                         testing::Values(mezo::ComputePrecision::fp32,
                                         mezo::ComputePrecision::bf16),
                         [](const auto& info) { return mezo::to_string(info.param); });

TEST(CausalLM, BadRequestsAreClearErrors) {
  auto model = mezo::CausalLM::random(tiny_llama_config(), 7, {.num_threads = 1});
  const auto batch = decoder_batch(2, 5, 3, 300);
  std::vector<float> out(300);
  const mezo::TokenQuery beyond{1, 8};  // row 1 has 8 tokens: positions 0..7
  EXPECT_CONTAINS(error_of(
                      [&] {
                        model.logits(batch, {&beyond, 1}, {}, out);
                      },
                      mezo::ErrorCode::invalid_argument),
                  "query (row 1, position 8) is not a real token");
  const mezo::TokenQuery ok{0, 0};
  const std::int32_t bad_id = 300;
  std::vector<float> one(1);
  EXPECT_CONTAINS(error_of(
                      [&] {
                        model.logits(batch, {&ok, 1}, {&bad_id, 1}, one);
                      },
                      mezo::ErrorCode::invalid_argument),
                  "vocabulary id 300 outside [0, 300)");
  auto bad_token = batch;
  bad_token.ids[3] = -1;
  EXPECT_CONTAINS(error_of(
                      [&] {
                        model.logits(bad_token, {&ok, 1}, {}, out);
                      },
                      mezo::ErrorCode::invalid_argument),
                  "token id -1 at row 0, position 3");
  const auto long_batch = decoder_batch(1, 129, 0, 300);
  EXPECT_CONTAINS(error_of(
                      [&] {
                        model.logits(long_batch, {&ok, 1}, {}, out);
                      },
                      mezo::ErrorCode::invalid_argument),
                  "exceed the model's 128 positions");
  EXPECT_CONTAINS(
      error_of([&] { mezo::CausalLM::random(tiny_llama_config(), 1, {.num_threads = -1}); },
               mezo::ErrorCode::invalid_argument),
      "num_threads must be >= 0");
}

TEST(DecoderConfig, ParsesLlamaAndQwen2AndRefusesWhatIsNotImplemented) {
  const std::string base = R"({"model_type": "llama", "vocab_size": 10, "hidden_size": 8,
      "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
      "intermediate_size": 16, "max_position_embeddings": 32)";
  const auto c = mezo::parse_decoder_config(base + "}", "config.json");
  EXPECT_EQ(c.head_dim, 4);
  EXPECT_EQ(c.num_key_value_heads, 1);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.tie_word_embeddings);  // transformers' Llama default
  const auto q = mezo::parse_decoder_config(
      R"({"model_type": "qwen2", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
          "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 32,
          "tie_word_embeddings": true})",
      "config.json");
  EXPECT_TRUE(q.qkv_bias);
  EXPECT_FALSE(q.o_bias);
  EXPECT_EQ(q.num_key_value_heads, 2);
  const auto scaled = mezo::parse_decoder_config(
      base + R"(, "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
          "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}})",
      "config.json");
  EXPECT_TRUE(scaled.rope_scaling.llama3);
  EXPECT_EQ(scaled.rope_scaling.factor, 32.0f);
  // transformers 5 spelling.
  const auto v5 = mezo::parse_decoder_config(
      base + R"(, "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0}})",
      "config.json");
  EXPECT_EQ(v5.rope_theta, 500000.0f);
  EXPECT_FALSE(v5.rope_scaling.llama3);
  const auto refuses = [&](const std::string& extra, const char* part) {
    EXPECT_CONTAINS(error_of([&] { mezo::parse_decoder_config(base + extra + "}", "cfg.json"); },
                             mezo::ErrorCode::invalid_format),
                    part);
  };
  refuses(R"(, "rope_scaling": {"rope_type": "yarn", "factor": 4.0})",
          "rope scaling of type 'yarn' is not supported");
  refuses(R"(, "hidden_act": "gelu")", "'gelu' is not supported");
  refuses(R"(, "mlp_bias": true)", "mlp_bias");
  refuses(R"(, "num_key_value_heads": 3)", "not a multiple of 3 key/value heads");
  EXPECT_CONTAINS(
      error_of([] { mezo::parse_decoder_config(R"({"model_type": "gpt2"})", "c.json"); },
               mezo::ErrorCode::invalid_format),
      "'gpt2' is not a supported decoder");
}

}  // namespace
