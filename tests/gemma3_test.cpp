// Gemma 3 (DecoderArch::gemma3) beyond the logits parity of
// causal_lm_parity_test (tiny-gemma3, HF and GGUF): its config.json in
// transformers 5's and older spellings and what is refused; incremental
// decoding through the KV cache across the sliding window; saving as a
// Hugging Face folder (gains back to w) and as GGUF (gains kept as 1 + w,
// llama.cpp's form); and the real Gemma 3 270M against transformers' GGUF
// loader on the same file (tests/fixtures/decoder/gemma3_reference.json, from
// tools/make_gemma3_fixtures.py --gemma), past its 512-token window; it
// skips when tools/fetch_model.sh gemma-3-270m has not fetched the file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <mezo/model/causal_lm.hpp>
#include <mezo/model/decoder_config.hpp>
#include <mezo/text/tokenizer.hpp>
#include <nlohmann/json.hpp>
#include <vector>

#include "decoder_test_support.hpp"
#include "real_model_support.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using mezo_test::error_of;

const fs::path kTiny = fs::path(MEZO_TEST_FIXTURES_DIR) / "decoder" / "tiny-gemma3";

const std::string kBase = R"({"model_type": "gemma3_text", "vocab_size": 10, "hidden_size": 8,
    "num_hidden_layers": 6, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 4,
    "intermediate_size": 16, "max_position_embeddings": 32, "sliding_window": 3)";

TEST(Gemma3Config, ReadsBothSpellingsAndTheLayerPattern) {
  // transformers 5: rope_parameters per layer type, layer_types.
  const auto v5 = mezo::parse_decoder_config(
      kBase + R"(, "query_pre_attn_scalar": 6, "layer_types": ["sliding_attention",
          "full_attention", "sliding_attention", "full_attention", "sliding_attention",
          "full_attention"], "rope_parameters": {"full_attention": {"rope_type": "default",
          "rope_theta": 500000.0}, "sliding_attention": {"rope_type": "default",
          "rope_theta": 20000.0}}})",
      "config.json");
  EXPECT_EQ(v5.arch, mezo::DecoderArch::gemma3);
  EXPECT_EQ(v5.sliding_window, 3);
  EXPECT_EQ(v5.sliding_window_pattern, 2);
  EXPECT_TRUE(mezo::is_sliding_layer(v5, 0));
  EXPECT_FALSE(mezo::is_sliding_layer(v5, 1));
  EXPECT_EQ(v5.rope_theta, 500000.0f);
  EXPECT_EQ(v5.rope_local_theta, 20000.0f);
  EXPECT_EQ(v5.query_pre_attn_scalar, 6.0f);
  EXPECT_TRUE(v5.tie_word_embeddings);  // Gemma's default
  // Older: rope_theta, rope_local_base_freq, sliding_window_pattern.
  const auto old = mezo::parse_decoder_config(
      kBase + R"(, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
          "sliding_window_pattern": 6})",
      "config.json");
  EXPECT_EQ(old.sliding_window_pattern, 6);
  EXPECT_EQ(old.rope_theta, 1000000.0f);
  for (std::int64_t l = 0; l < 6; ++l) EXPECT_EQ(mezo::is_sliding_layer(old, l), l != 5) << l;
  // The saved form reads back the same.
  const auto again = mezo::parse_decoder_config(mezo::decoder_config_to_json(v5), "saved.json");
  EXPECT_EQ(again.sliding_window_pattern, v5.sliding_window_pattern);
  EXPECT_EQ(again.rope_local_theta, v5.rope_local_theta);
  EXPECT_EQ(again.query_pre_attn_scalar, v5.query_pre_attn_scalar);
}

TEST(Gemma3Config, RefusesWhatIsNotImplemented) {
  const auto refuses = [&](const std::string& extra, const char* part) {
    EXPECT_CONTAINS(error_of([&] { mezo::parse_decoder_config(kBase + extra + "}", "cfg.json"); },
                             mezo::ErrorCode::invalid_format),
                    part);
  };
  refuses(R"(, "final_logit_softcapping": 30.0)", "soft-capping is not supported");
  refuses(R"(, "hidden_activation": "gelu")", "'gelu' is not supported");
  refuses(R"(, "rope_scaling": {"rope_type": "linear", "factor": 8.0})",
          "RoPE scaling 'linear' is not supported for gemma3");
  refuses(R"(, "layer_types": ["sliding_attention", "full_attention", "full_attention",
      "sliding_attention", "sliding_attention", "sliding_attention"])",
          "layer 2 breaks the pattern of a global layer every 2");
  EXPECT_CONTAINS(
      error_of([] { mezo::parse_decoder_config(R"({"model_type": "gemma3"})", "c.json"); },
               mezo::ErrorCode::invalid_format),
      "Gemma 3's multimodal model");
}

std::vector<float> full_logits(mezo::CausalLM& model, const std::vector<std::int32_t>& ids) {
  const std::vector<std::vector<std::int32_t>> rows = {ids};
  const mezo::TokenQuery last{0, static_cast<std::int64_t>(ids.size()) - 1};
  std::vector<float> out(static_cast<std::size_t>(model.vocab_size()));
  model.logits(mezo::TokenBatch::pad(rows, 0), {&last, 1}, {}, out);
  return out;
}

// A window of 4 and 23 tokens decoded one at a time: the cache keeps every
// key, the window must hide the old ones exactly as the full forward does.
TEST(Gemma3, CachedDecodingEqualsTheFullForwardAcrossTheWindow) {
  auto model = mezo::CausalLM::load(kTiny / "hf", {.num_threads = 1});
  std::vector<std::int32_t> ids;
  for (int i = 0; i < 23; ++i) ids.push_back(3 + (i * 37) % 250);
  mezo::KvCache cache;
  std::vector<float> cached(static_cast<std::size_t>(model.vocab_size()));
  model.decode(cache, std::span(ids).first(5), cached);
  for (std::size_t i = 5; i < ids.size(); ++i) {
    model.decode(cache, {&ids[i], 1}, cached);
    const auto full =
        full_logits(model, std::vector<std::int32_t>(ids.begin(), ids.begin() + i + 1));
    for (std::size_t j = 0; j < full.size(); ++j)
      ASSERT_NEAR(cached[j], full[j], 1e-5f * std::max(1.0f, std::abs(full[j]))) << i << ", " << j;
  }
}

TEST(Gemma3, SavedAsHuggingFaceAndGgufLoadsBack) {
  mezo_test::TempDir dir;
  auto model = mezo::CausalLM::load(kTiny / "model-f32.gguf", {.num_threads = 1});
  // GGUF holds the gains as 1 + w, as the buffer does: bit for bit.
  model.save_gguf(dir.path() / "again.gguf");
  mezo_test::expect_same_params(
      model, mezo::CausalLM::load(dir.path() / "again.gguf", {.num_threads = 1}));
  // Hugging Face stores w: the gains go through w = g − 1 and back, exact for
  // g ≥ 0.5 and within an ulp of 1 below it.
  model.save_pretrained(dir.path() / "hf");
  const auto back = mezo::CausalLM::load(dir.path() / "hf", {.num_threads = 1});
  ASSERT_EQ(back.params().views().size(), model.params().views().size());
  for (std::size_t v = 0; v < model.params().views().size(); ++v) {
    const auto& a = model.params().views()[v];
    const auto& b = back.params().views()[v];
    for (std::uint64_t i = 0; i < a.size; ++i)
      ASSERT_NEAR(a.f32()[i], b.f32()[i], 6e-8f) << a.name << "[" << i << "]";
  }
  // What llama.cpp would read otherwise is refused.
  auto other = mezo::parse_decoder_config(mezo::decoder_config_to_json(model.config()), "c.json");
  other.sliding_window_pattern = 2;
  auto wrong = mezo::CausalLM::random(other, 1, {.num_threads = 1});
  EXPECT_CONTAINS(
      error_of([&] { wrong.save_gguf(dir.path() / "wrong.gguf"); }, mezo::ErrorCode::unsupported),
      "llama.cpp's gemma3 takes every sixth layer as global");
}

double log_sum_exp(const std::vector<float>& row) {
  double max = -INFINITY, sum = 0;
  for (const float x : row) max = std::max(max, double{x});
  for (const float x : row) sum += std::exp(x - max);
  return max + std::log(sum);
}

TEST(Gemma3, RealModelMatchesTransformers) {
  REQUIRE_GEMMA3_GGUF(path);
  std::ifstream in(fs::path(MEZO_TEST_FIXTURES_DIR) / "decoder" / "gemma3_reference.json");
  const auto ref = nlohmann::json::parse(in);
  auto model = mezo::CausalLM::load(path, {.num_threads = 2});
  const auto tokenizer = mezo::load_tokenizer(path);
  // The prompt's ids, <bos> first, as transformers' tokenizer gives them.
  std::vector<std::int32_t> prompt = {tokenizer->special_tokens().begin};
  for (const auto id : tokenizer->encode(ref.at("prompt").get<std::string>())) prompt.push_back(id);
  ASSERT_EQ(prompt, ref.at("prompt_ids").get<std::vector<std::int32_t>>());
  const auto logits = full_logits(model, prompt);
  const double lse = log_sum_exp(logits);
  const auto ids = ref.at("top_ids").get<std::vector<std::int32_t>>();
  const auto want = ref.at("top_log_probs").get<std::vector<double>>();
  for (std::size_t k = 0; k < ids.size(); ++k)
    EXPECT_NEAR(logits[static_cast<std::size_t>(ids[k])] - lse, want[k], 1e-4) << "id " << ids[k];
  // A paragraph of 686 tokens, past the 512-token window of the local layers.
  const auto para = ref.at("paragraph_ids").get<std::vector<std::int32_t>>();
  ASSERT_GT(para.size(), 600u);
  const std::vector<std::vector<std::int32_t>> rows = {para};
  std::vector<mezo::TokenQuery> every;
  for (std::size_t t = 0; t + 1 < para.size(); ++t)
    every.push_back({0, static_cast<std::int64_t>(t)});
  const auto vocab = static_cast<std::size_t>(model.vocab_size());
  std::vector<float> all(every.size() * vocab);
  model.logits(mezo::TokenBatch::pad(rows, 0), every, {}, all);
  double sum = 0;
  for (std::size_t t = 0; t < every.size(); ++t) {
    const std::vector<float> row(all.begin() + static_cast<std::ptrdiff_t>(t * vocab),
                                 all.begin() + static_cast<std::ptrdiff_t>((t + 1) * vocab));
    sum += log_sum_exp(row) - row[static_cast<std::size_t>(para[t + 1])];
  }
  const double nll = sum / static_cast<double>(every.size());
  const double want_nll = ref.at("paragraph_nll");
  std::printf("paragraph NLL %.7f, transformers %.7f\n", nll, want_nll);
  EXPECT_NEAR(nll, want_nll, 1e-5 * want_nll);
}

}  // namespace
