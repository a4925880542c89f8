// Parameter-efficient MeZO on decoders: LoRA by role and GQA-shaped prefix
// tuning, with the encoder's guarantees (an untouched base, factors that reach
// the forward, an exact start) and the decoder's own: a real-activation
// prefix is exactly a key/value cache of its tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mezo/mezo.hpp>
#include <mezo/model/causal_lm.hpp>
#include <mezo/model/masked_lm.hpp>
#include <vector>

#include "decoder_test_support.hpp"
#include "model_test_support.hpp"
#include "test_support.hpp"

namespace {

using mezo_test::decoder_batch;
using mezo_test::error_of;
using mezo_test::every_position;
using mezo_test::tiny_llama_config;

std::vector<float> all_logits(mezo::CausalLM& model, const mezo::TokenBatch& batch) {
  const auto queries = every_position(batch);
  std::vector<float> out(queries.size() * static_cast<std::size_t>(model.vocab_size()));
  model.logits(batch, queries, {}, out);
  return out;
}

std::vector<float> copy_of(const mezo::ParamSet& set) {
  std::vector<float> all;
  for (const auto& v : set.views()) all.insert(all.end(), v.f32(), v.f32() + v.size);
  return all;
}

TEST(CausalLMPeft, LoraStartsAtTheBaseModelAndItsFactorsReachTheForward) {
  auto model = mezo::CausalLM::random(tiny_llama_config(), 1, {.num_threads = 1});
  const auto batch = decoder_batch(2, 9, 5, 300);
  const auto base = all_logits(model, batch);
  model.enable_lora(
      {.rank = 4,
       .alpha = 8.0f,
       .targets = {mezo::LoraTarget::query, mezo::LoraTarget::key, mezo::LoraTarget::value,
                   mezo::LoraTarget::attention_output, mezo::LoraTarget::gate,
                   mezo::LoraTarget::intermediate, mezo::LoraTarget::output}});
  EXPECT_EQ(all_logits(model, batch), base) << "B = 0 must give the base model bit for bit";
  // Each factor pair reaches the forward: a change to one B changes the logits.
  for (const auto& view : model.peft_params().views()) {
    if (!view.name.ends_with("lora_B.weight")) continue;
    view.f32()[0] = 0.5f;
    EXPECT_NE(all_logits(model, batch), base) << view.name << " does not reach the forward";
    view.f32()[0] = 0.0f;
  }
}

TEST(CausalLMPeft, LoraFactorsAreNamedAndShapedByRole) {
  const auto c = tiny_llama_config();
  auto model = mezo::CausalLM::random(c, 2, {.num_threads = 1});
  model.enable_lora({.rank = 3});  // the default targets: q and v
  const auto& peft = model.peft_params();
  ASSERT_EQ(peft.views().size(), 2u * 2u * 2u);  // layers × targets × (A, B)
  EXPECT_EQ(peft.views()[0].name, "model.layers.0.self_attn.q_proj.lora_A.weight");
  EXPECT_EQ(peft.views()[0].size, 3u * 64u);
  EXPECT_EQ(peft.views()[1].name, "model.layers.0.self_attn.q_proj.lora_B.weight");
  EXPECT_EQ(peft.views()[1].size, 64u * 3u);  // 4 heads × 16
  EXPECT_EQ(peft.views()[3].name, "model.layers.0.self_attn.v_proj.lora_B.weight");
  EXPECT_EQ(peft.views()[3].size, 32u * 3u);  // 2 key/value heads × 16
  EXPECT_EQ(mezo::parse_lora_target("gate"), mezo::LoraTarget::gate);
  EXPECT_EQ(mezo::parse_lora_target("down"), mezo::LoraTarget::output);
  // Encoders have no gate projection.
  auto encoder = mezo::MaskedLM::random(mezo_test::multi_piece_config(), 1, {.num_threads = 1});
  EXPECT_CONTAINS(error_of([&] { encoder.enable_lora({.targets = {mezo::LoraTarget::gate}}); },
                           mezo::ErrorCode::invalid_argument),
                  "no 'gate' projection");
  EXPECT_CONTAINS(error_of([&] { model.enable_lora({}); }, mezo::ErrorCode::invalid_argument),
                  "LoRA is already enabled");
}

TEST(CausalLMPeft, StepsTrainThePeftTensorsAndNeverTheBase) {
  auto model = mezo::CausalLM::random(tiny_llama_config(false), 3, {.num_threads = 1});
  model.enable_lora({.rank = 2, .train_head = true});
  model.enable_prefix({.tokens = 3});
  // train_head: the final norm and the untied head join the trainable set.
  EXPECT_NE(model.peft_params().find("model.norm.weight"), nullptr);
  EXPECT_NE(model.peft_params().find("lm_head.weight"), nullptr);
  const auto batch = decoder_batch(3, 6, 4, 300);
  const std::vector<mezo::TokenQuery> last = {{0, 5}, {1, 9}, {2, 13}};
  const std::vector<std::int32_t> ids = {5, 9};
  const auto loss = [&] {
    std::vector<float> out(6);
    model.logits(batch, last, ids, out);
    return out[0] - out[1] + out[2] - out[3] + out[4] - out[5];
  };
  std::vector<float> frozen;  // the base minus the head views train_head shares
  for (const auto& v : model.params().views())
    if (v.name != "model.norm.weight" && v.name != "lm_head.weight")
      frozen.insert(frozen.end(), v.f32(), v.f32() + v.size);
  const auto peft_before = copy_of(model.peft_params());
  mezo::ZoSgd opt({.lr = 1e-2f, .eps = 1e-3f});
  for (std::uint64_t t = 0; t < 3; ++t) mezo::step(model.peft_params(), opt, loss, 100 + t);
  std::vector<float> frozen_after;
  for (const auto& v : model.params().views())
    if (v.name != "model.norm.weight" && v.name != "lm_head.weight")
      frozen_after.insert(frozen_after.end(), v.f32(), v.f32() + v.size);
  EXPECT_EQ(0, std::memcmp(frozen.data(), frozen_after.data(), frozen.size() * 4))
      << "a PEFT step wrote the frozen base";
  EXPECT_NE(copy_of(model.peft_params()), peft_before) << "the steps changed nothing";
}

// A real-activation prefix holds the keys and values of its m tokens, and the
// sequence follows at positions m, m+1, ...: the logits equal those of the
// base model on [prefix tokens, sequence].
TEST(CausalLMPeft, RealActivationPrefixIsAKeyValueCacheOfItsTokens) {
  for (const auto& config : {tiny_llama_config(), mezo_test::smollm2_width_config()}) {
    auto model = mezo::CausalLM::random(config, 4, {.num_threads = 2});
    auto base = mezo::CausalLM::random(config, 4, {.num_threads = 2});
    model.enable_prefix({.tokens = 5, .seed = 9});
    ASSERT_EQ(model.peft_params().views().size(),
              2u * static_cast<std::size_t>(config.num_hidden_layers));
    EXPECT_EQ(model.peft_params().views()[0].name, "model.layers.0.self_attn.prefix_key");
    EXPECT_EQ(model.peft_params().views()[0].size,
              static_cast<std::uint64_t>(5 * config.num_key_value_heads * config.head_dim));
    const auto batch = decoder_batch(2, 7, 6, config.vocab_size);
    const auto with_prefix = all_logits(model, batch);
    // The same rows with the prefix tokens in front, through the base model.
    const auto tokens = model.prefix_token_ids();
    ASSERT_EQ(tokens.size(), 5u);
    std::vector<std::vector<std::int32_t>> rows;
    for (std::int64_t r = 0; r < batch.rows; ++r) {
      rows.emplace_back(tokens.begin(), tokens.end());
      rows.back().insert(rows.back().end(), batch.ids.begin() + r * batch.seq_len,
                         batch.ids.begin() + r * batch.seq_len + batch.lengths[r]);
    }
    const auto prepended = mezo::TokenBatch::pad(rows, 0);
    std::vector<mezo::TokenQuery> queries;
    for (std::int64_t r = 0; r < batch.rows; ++r)
      for (std::int64_t t = 0; t < batch.lengths[r]; ++t) queries.push_back({r, t + 5});
    std::vector<float> want(queries.size() * static_cast<std::size_t>(config.vocab_size));
    base.logits(prepended, queries, {}, want);
    for (std::size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(with_prefix[i], want[i], 1e-4) << "logit " << i;
  }
}

// Export of a LoRA model at SmolLM2's width (2 threads, so the projections are
// cut into pieces): merged, the base weights alone give the adapted model, a
// merged forward notices trained factors, unmerging restores the base bit for
// bit, and the merged model saves as a plain GGUF file that is the same model.
TEST(CausalLMPeft, MergedLoraIsTheAdaptedModelAndExportsAsAPlainGguf) {
  auto model = mezo::CausalLM::random(mezo_test::smollm2_width_config(), 8, {.num_threads = 2});
  model.enable_lora({.rank = 8, .seed = 5});
  // B away from zero, as after training.
  mezo::perturb_inplace(model.peft_params(), *mezo::gaussian_perturbation(), 7, 0.05f);
  const auto batch = decoder_batch(4, 24, 8, 2048);
  const auto unmerged = all_logits(model, batch);
  const auto base = copy_of(model.params());
  model.merge_lora();
  EXPECT_TRUE(model.lora_merged());
  EXPECT_NE(copy_of(model.params()), base) << "the merge did not reach the base weights";
  const auto merged = all_logits(model, batch);
  double max_ref = 0, max_diff = 0;
  for (std::size_t i = 0; i < merged.size(); ++i) {
    max_ref = std::max(max_ref, std::abs(double(unmerged[i])));
    max_diff = std::max(max_diff, std::abs(double(merged[i]) - unmerged[i]));
  }
  EXPECT_LE(max_diff, 1e-5 * max_ref) << "merged vs unmerged, max |diff| " << max_diff;

  mezo_test::TempDir dir;
  model.save_gguf(dir / "merged.gguf");
  auto exported = mezo::CausalLM::load(dir / "merged.gguf", {.num_threads = 2});
  EXPECT_EQ(all_logits(exported, batch), merged) << "the exported file is not the merged model";

  // Training while merged: the forward notices the factors changed.
  mezo::perturb_inplace(model.peft_params(), *mezo::gaussian_perturbation(), 9, 1e-3f);
  EXPECT_CONTAINS(error_of([&] { all_logits(model, batch); }, mezo::ErrorCode::invalid_argument),
                  "changed while merged");
  mezo::perturb_inplace(model.peft_params(), *mezo::gaussian_perturbation(), 9, -1e-3f);
  model.unmerge_lora();
  EXPECT_FALSE(model.lora_merged());
  EXPECT_EQ(copy_of(model.params()), base) << "unmerge did not restore the base bit for bit";
}

TEST(CausalLMPeft, MergeIsCheckedAgainstTheLoraState) {
  auto model = mezo::CausalLM::random(tiny_llama_config(), 3, {.num_threads = 1});
  const auto code = mezo::ErrorCode::invalid_argument;
  EXPECT_CONTAINS(error_of([&] { model.merge_lora(); }, code), "LoRA is not enabled");
  EXPECT_CONTAINS(error_of([&] { model.unmerge_lora(); }, code), "not merged");
  model.enable_lora({});
  model.merge_lora();
  EXPECT_CONTAINS(error_of([&] { model.merge_lora(); }, code), "already merged");
  EXPECT_CONTAINS(error_of([&] { model.enable_prefix({}); }, code), "while LoRA is merged");
  model.unmerge_lora();
  const std::size_t lora_tensors = model.peft_params().views().size();
  model.enable_prefix({.tokens = 2});  // unmerged, a prefix may join LoRA
  EXPECT_EQ(model.peft_params().views().size(), lora_tensors + 4);  // 2 layers' keys and values
}

TEST(CausalLMPeft, EmptyPrefixIsTheBaseModelAndOptionsAreChecked) {
  auto model = mezo::CausalLM::random(tiny_llama_config(), 5, {.num_threads = 1});
  const auto batch = decoder_batch(2, 5, 5, 300);
  const auto base = all_logits(model, batch);
  model.enable_prefix({.tokens = 0});
  EXPECT_EQ(all_logits(model, batch), base);
  EXPECT_CONTAINS(error_of([&] { model.enable_prefix({}); }, mezo::ErrorCode::invalid_argument),
                  "already enabled");
  auto other = mezo::CausalLM::random(tiny_llama_config(), 5, {.num_threads = 1});
  EXPECT_CONTAINS(
      error_of([&] { other.enable_prefix({.tokens = -1}); }, mezo::ErrorCode::invalid_argument),
      "tokens must be >= 0");
  // A prefix takes positions from the sequence.
  other.enable_prefix({.tokens = 100, .init = mezo::PrefixInit::random});
  const auto long_batch = decoder_batch(1, 40, 0, 300);
  const mezo::TokenQuery q{0, 0};
  std::vector<float> out(300);
  EXPECT_CONTAINS(error_of(
                      [&] {
                        other.logits(long_batch, {&q, 1}, {}, out);
                      },
                      mezo::ErrorCode::invalid_argument),
                  "exceed the model's 28 positions");
}

}  // namespace
