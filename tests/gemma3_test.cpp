// Gemma 3 (DecoderArch::gemma3) beyond the logits parity of
// causal_lm_parity_test (tiny-gemma3, HF and GGUF): its config.json in
// transformers 5's and older spellings and what is refused; incremental
// decoding through the KV cache across the sliding window; saving as a
// Hugging Face folder (gains back to w) and as GGUF (gains kept as 1 + w,
// llama.cpp's form). The real Gemma 3 270M is in real_decoders_test.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <mezo/model/causal_lm.hpp>
#include <mezo/model/decoder_config.hpp>
#include <nlohmann/json.hpp>
#include <vector>

#include "decoder_test_support.hpp"
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

}  // namespace
