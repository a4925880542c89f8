// Parameter-efficient MeZO (issue 6): LoRA and prefix tuning reach the
// forward pass, start from the base model exactly, and training them leaves
// the frozen base untouched.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <mezo/io/safetensors.hpp>
#include <mezo/mezo.hpp>
#include <mezo/model/masked_lm.hpp>
#include <mezo/model/peft.hpp>
#include <string>
#include <vector>

#include "model_test_support.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = MEZO_TEST_FIXTURES_DIR;

// A padded batch of the tiny RoBERTa fixture's vocabulary (320 ids, pad 1).
mezo::TokenBatch roberta_batch() {
  const std::vector<std::vector<std::int32_t>> rows = {
      {0, 10, 20, 30, 40, 50, 2}, {0, 77, 88, 2}, {0, 300, 5, 6, 7, 2}};
  return mezo::TokenBatch::pad(rows, 1);
}

std::vector<float> logits_of(mezo::MaskedLM& model, const mezo::TokenBatch& batch) {
  const std::vector<mezo::MaskQuery> queries = {{0, 3}, {1, 2}, {2, 4}};
  std::vector<float> out(queries.size() * static_cast<std::size_t>(model.config().vocab_size));
  model.mlm_logits(batch, queries, {}, out);
  return out;
}

std::vector<float> hidden_of(mezo::MaskedLM& model, const mezo::TokenBatch& batch) {
  std::vector<float> out(
      static_cast<std::size_t>(batch.rows * batch.seq_len * model.config().hidden_size));
  model.last_hidden_state(batch, out);
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// FNV-1a over every byte of a parameter set.
std::uint64_t hash_of(const mezo::ParamSet& params) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const auto& v : params.views()) {
    const auto* bytes = static_cast<const unsigned char*>(v.data);
    for (std::uint64_t i = 0; i < v.size * sizeof(float); ++i)
      h = (h ^ bytes[i]) * 0x100000001b3ull;
  }
  return h;
}

std::vector<mezo::LoraTarget> all_targets() {
  using T = mezo::LoraTarget;
  return {T::query, T::key, T::value, T::attention_output, T::intermediate, T::output};
}

TEST(Lora, WithBZeroTheLogitsEqualTheBaseModelsBitForBit) {
  for (const char* fixture : {"tiny-roberta", "tiny-bert"}) {
    mezo::MaskedLM base = mezo::MaskedLM::load(kFixtures / fixture);
    mezo::MaskedLM adapted = mezo::MaskedLM::load(kFixtures / fixture);
    adapted.enable_lora({.rank = 4, .alpha = 8, .targets = all_targets(), .seed = 3});
    const std::vector<std::vector<std::int32_t>> rows = {{5, 10, 20, 30, 40, 50, 6}, {5, 77, 6}};
    const auto batch =
        mezo::TokenBatch::pad(rows, static_cast<std::int32_t>(base.config().pad_token_id));
    std::vector<float> a(2 * static_cast<std::size_t>(base.config().vocab_size)), b(a.size());
    const std::vector<mezo::MaskQuery> queries = {{0, 3}, {1, 1}};
    base.mlm_logits(batch, queries, {}, a);
    adapted.mlm_logits(batch, queries, {}, b);
    EXPECT_TRUE(same_bits(a, b)) << fixture;
    EXPECT_TRUE(same_bits(hidden_of(base, batch), hidden_of(adapted, batch))) << fixture;
  }
}

TEST(Lora, TheTrainableSetHoldsOnlyTheFactors) {
  mezo::MaskedLM model = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  EXPECT_TRUE(model.peft_params().empty());
  model.enable_lora({.rank = 8, .alpha = 16});
  const auto& c = model.config();
  // query and value in each layer: A (8 × H) and B (H × 8).
  EXPECT_EQ(model.peft_params().num_elements(),
            static_cast<std::uint64_t>(c.num_hidden_layers * 2 * 2 * 8 * c.hidden_size));
  ASSERT_EQ(model.peft_params().views().size(), static_cast<std::size_t>(c.num_hidden_layers * 4));
  EXPECT_EQ(model.peft_params().views()[0].name,
            "encoder.layer.0.attention.self.query.lora_A.weight");
  EXPECT_EQ(model.peft_params().views()[3].name,
            "encoder.layer.0.attention.self.value.lora_B.weight");
  // One contiguous buffer: each view starts where the previous one ends.
  const auto views = model.peft_params().views();
  for (std::size_t i = 1; i < views.size(); ++i)
    EXPECT_EQ(views[i].f32(), views[i - 1].f32() + views[i - 1].size);
  // A is Kaiming-uniform(a = √5): inside ±1/√in and not all zero; B is zero.
  const float bound = 1.0f / std::sqrt(static_cast<float>(c.hidden_size));
  bool nonzero = false;
  for (std::uint64_t i = 0; i < views[0].size; ++i) {
    EXPECT_LE(std::abs(views[0].f32()[i]), bound);
    nonzero |= views[0].f32()[i] != 0.0f;
  }
  EXPECT_TRUE(nonzero);
  for (std::uint64_t i = 0; i < views[1].size; ++i) EXPECT_EQ(views[1].f32()[i], 0.0f);
}

TEST(Lora, PerturbingOnlyTheFactorsChangesTheLogits) {
  mezo::MaskedLM model = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  model.enable_lora({.rank = 8, .alpha = 16, .seed = 1});
  const auto batch = roberta_batch();
  const std::uint64_t base_hash = hash_of(model.params());
  const auto before = logits_of(model, batch);
  const auto perturbation = mezo::gaussian_perturbation();
  mezo::perturb_inplace(model.peft_params(), *perturbation, 9, 1e-2f);
  const auto after = logits_of(model, batch);
  EXPECT_EQ(hash_of(model.params()), base_hash) << "the base weights changed";
  double max_change = 0;
  for (std::size_t i = 0; i < before.size(); ++i)
    max_change = std::max(max_change, std::abs(double(after[i]) - before[i]));
  EXPECT_GT(max_change, 1e-6) << "perturbing the LoRA factors did not reach the logits";
}

TEST(Lora, MergedForwardEqualsUnmergedAndUnmergeRestoresTheBaseExactly) {
  mezo::MaskedLM model = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  model.enable_lora({.rank = 4, .alpha = 16, .targets = all_targets(), .seed = 2});
  // Make B non-zero, so the merge has something to fold in.
  mezo::perturb_inplace(model.peft_params(), *mezo::gaussian_perturbation(), 5, 0.05f);
  const auto batch = roberta_batch();
  const auto unmerged = logits_of(model, batch);
  const std::uint64_t base_hash = hash_of(model.params());
  model.merge_lora();
  EXPECT_TRUE(model.lora_merged());
  EXPECT_NE(hash_of(model.params()), base_hash);
  const auto merged = logits_of(model, batch);
  double max_ref = 0, max_diff = 0;
  for (std::size_t i = 0; i < merged.size(); ++i) {
    max_ref = std::max(max_ref, std::abs(double(unmerged[i])));
    max_diff = std::max(max_diff, std::abs(double(merged[i]) - unmerged[i]));
  }
  EXPECT_LE(max_diff, 1e-5 * max_ref) << "merged vs unmerged, max |diff| " << max_diff;
  // Training while merged: the forward notices the factors changed.
  mezo::perturb_inplace(model.peft_params(), *mezo::gaussian_perturbation(), 6, 1e-3f);
  EXPECT_THROW(logits_of(model, batch), mezo::Error);
  mezo::perturb_inplace(model.peft_params(), *mezo::gaussian_perturbation(), 6, -1e-3f);
  model.unmerge_lora();
  EXPECT_EQ(hash_of(model.params()), base_hash) << "unmerge did not restore the base bit for bit";
  // -1e-3 undoes +1e-3 only to within rounding: compare loosely.
  const auto again = logits_of(model, batch);
  for (std::size_t i = 0; i < again.size(); ++i) EXPECT_NEAR(again[i], unmerged[i], 1e-4);
}

// Export: save_pretrained of a merged model is a plain checkpoint whose
// forward is the adapted model's.
TEST(Lora, AMergedModelSavesAsAPlainCheckpoint) {
  mezo::MaskedLM model = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  model.enable_lora({.rank = 4, .seed = 5});
  mezo::perturb_inplace(model.peft_params(), *mezo::gaussian_perturbation(), 7, 0.05f);
  const auto batch = roberta_batch();
  model.merge_lora();
  const auto merged = logits_of(model, batch);
  const fs::path dir =
      fs::temp_directory_path() / ("mezo_peft_export_" + std::to_string(::getpid()));
  model.save_pretrained(dir);
  mezo::MaskedLM exported = mezo::MaskedLM::load(dir);
  fs::remove_all(dir);
  EXPECT_TRUE(same_bits(merged, logits_of(exported, batch)));
}

TEST(Prefix, EmptyPrefixEqualsTheBaseModelBitForBit) {
  mezo::MaskedLM base = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  mezo::MaskedLM prefixed = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  prefixed.enable_prefix({.tokens = 0});
  EXPECT_TRUE(prefixed.prefix_enabled());
  EXPECT_TRUE(prefixed.peft_params().empty());
  const auto batch = roberta_batch();
  EXPECT_TRUE(same_bits(logits_of(base, batch), logits_of(prefixed, batch)));
}

TEST(Prefix, RealActivationInitEqualsTheFrozenModelsKeysAndValues) {
  const fs::path dir = kFixtures / "tiny-roberta";
  mezo::MaskedLM model = mezo::MaskedLM::load(dir);
  const int m = 5;
  model.enable_prefix({.tokens = m, .init = mezo::PrefixInit::real_activations, .seed = 17});
  const auto& c = model.config();
  const std::int64_t H = c.hidden_size;
  const auto ids = model.prefix_token_ids();
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(m));
  for (const auto id : ids) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, c.vocab_size);
    EXPECT_NE(id, c.pad_token_id);
  }
  EXPECT_EQ(model.peft_params().num_elements(),
            static_cast<std::uint64_t>(c.num_hidden_layers * 2 * m * H));
  const mezo::ParamSet& base = model.params();
  const auto tensor = [&](const std::string& name) {
    const mezo::ParamView* v = base.find("roberta." + name);
    EXPECT_NE(v, nullptr) << name;
    return v->f32();
  };
  // Independent computation of the input of layer l: the embeddings by hand
  // for l = 0, the last hidden state of the same checkpoint loaded with only
  // l layers otherwise; then K = h·Wkᵀ + bk and V = h·Wvᵀ + bv in double.
  mezo::TokenBatch seq{1, m, std::vector<std::int32_t>(ids.begin(), ids.end()), {m}};
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    std::vector<float> h(static_cast<std::size_t>(m * H));
    if (l == 0) {
      const float* word = tensor("embeddings.word_embeddings.weight");
      const float* pos = tensor("embeddings.position_embeddings.weight");
      const float* type = tensor("embeddings.token_type_embeddings.weight");
      const float* g = tensor("embeddings.LayerNorm.weight");
      const float* b = tensor("embeddings.LayerNorm.bias");
      for (int i = 0; i < m; ++i) {
        std::vector<double> x(static_cast<std::size_t>(H));
        double mean = 0, var = 0;
        for (std::int64_t e = 0; e < H; ++e) {
          x[e] = double(word[ids[i] * H + e]) + pos[(c.pad_token_id + 1 + i) * H + e] + type[e];
          mean += x[e] / H;
        }
        for (std::int64_t e = 0; e < H; ++e) var += (x[e] - mean) * (x[e] - mean) / H;
        for (std::int64_t e = 0; e < H; ++e)
          h[i * H + e] =
              static_cast<float>((x[e] - mean) / std::sqrt(var + c.layer_norm_eps) * g[e] + b[e]);
      }
    } else {
      mezo::TransformerConfig shallow = c;
      shallow.num_hidden_layers = l;
      mezo::MaskedLM truncated = mezo::MaskedLM::load(shallow, dir / "model.safetensors");
      truncated.last_hidden_state(seq, h);
    }
    const std::string layer = "encoder.layer." + std::to_string(l) + ".attention.";
    for (const char* kind : {"key", "value"}) {
      const float* w = tensor(layer + "self." + kind + ".weight");
      const float* bias = tensor(layer + "self." + kind + ".bias");
      const mezo::ParamView* prefix = model.peft_params().find(layer + "prefix_" + kind);
      ASSERT_NE(prefix, nullptr);
      double max_diff = 0, max_ref = 0;
      for (int i = 0; i < m; ++i) {
        for (std::int64_t o = 0; o < H; ++o) {
          double ref = bias[o];
          for (std::int64_t e = 0; e < H; ++e) ref += double(h[i * H + e]) * w[o * H + e];
          max_diff = std::max(max_diff, std::abs(ref - prefix->f32()[i * H + o]));
          max_ref = std::max(max_ref, std::abs(ref));
        }
      }
      EXPECT_LE(max_diff, 1e-5 * max_ref)
          << "layer " << l << " " << kind << ": max |diff| " << max_diff;
    }
  }
}

TEST(Prefix, ReachesTheForwardAndMeZOStepsLeaveTheBaseUntouched) {
  mezo::MaskedLM base = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  mezo::MaskedLM model = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  model.enable_prefix({.tokens = 3, .seed = 4});
  const auto batch = roberta_batch();
  EXPECT_FALSE(same_bits(logits_of(base, batch), logits_of(model, batch)));
  const std::uint64_t base_hash = hash_of(model.params());
  const std::uint64_t peft_hash = hash_of(model.peft_params());
  const auto perturbation = mezo::gaussian_perturbation();
  mezo::ZoSgd optimizer({.lr = 1e-2f, .eps = 1e-1f, .weight_decay = 0.1f}, perturbation);
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const auto r = mezo::step(
        model.peft_params(), optimizer,
        [&] {
          return logits_of(model, batch)[7];  // any scalar that depends on the forward
        },
        seed);
    EXPECT_EQ(r.status, mezo::StepStatus::ok);
    EXPECT_NE(r.loss_plus, r.loss_minus) << "the prefix perturbation did not reach the loss";
  }
  EXPECT_EQ(hash_of(model.params()), base_hash) << "MeZO steps on the prefix wrote the base";
  EXPECT_NE(hash_of(model.peft_params()), peft_hash);
}

TEST(Lora, MeZOStepsLeaveTheBaseUntouched) {
  mezo::MaskedLM model = mezo::MaskedLM::load(kFixtures / "tiny-bert");
  model.enable_lora({.seed = 8});
  const std::uint64_t base_hash = hash_of(model.params());
  const std::uint64_t peft_hash = hash_of(model.peft_params());
  const std::vector<std::vector<std::int32_t>> rows = {{101, 7, 8, 9, 102}};
  const auto batch = mezo::TokenBatch::pad(rows, 0);
  const std::vector<mezo::MaskQuery> q = {{0, 2}};
  const std::vector<std::int32_t> ids = {5, 6};
  std::vector<float> out(2);
  const auto perturbation = mezo::gaussian_perturbation();
  mezo::ZoSgd optimizer({.lr = 1e-4f, .eps = 1e-3f, .weight_decay = 0.1f}, perturbation);
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const auto r = mezo::step(
        model.peft_params(), optimizer,
        [&] {
          model.mlm_logits(batch, q, ids, out);
          return out[0] - out[1];
        },
        seed);
    EXPECT_EQ(r.status, mezo::StepStatus::ok);
    EXPECT_NE(r.loss_plus, r.loss_minus);
  }
  EXPECT_EQ(hash_of(model.params()), base_hash);
  EXPECT_NE(hash_of(model.peft_params()), peft_hash);
}

TEST(Peft, LoraAndPrefixTogetherOnAnEncoderOnlyCheckpoint) {
  const fs::path dir = kFixtures / "tiny-bert-encoder";
  mezo::MaskedLM base = mezo::MaskedLM::load(dir);
  mezo::MaskedLM model = mezo::MaskedLM::load(dir);
  ASSERT_FALSE(model.has_mlm_head());
  EXPECT_THROW(model.enable_lora({.train_head = true}), mezo::Error);
  model.enable_lora({.rank = 2, .alpha = 4});
  const std::vector<std::vector<std::int32_t>> rows = {{101, 7, 8, 9, 102}, {101, 11, 102}};
  const auto batch = mezo::TokenBatch::pad(rows, 0);
  const std::int64_t H = model.config().hidden_size;
  std::vector<float> a(2 * H), b(2 * H);
  base.mean_pooled(batch, a);
  model.mean_pooled(batch, b);
  EXPECT_TRUE(same_bits(a, b));
  const std::uint64_t lora_elements = model.peft_params().num_elements();
  model.enable_prefix({.tokens = 2, .init = mezo::PrefixInit::random, .seed = 1});
  const auto L = static_cast<std::uint64_t>(model.config().num_hidden_layers);
  EXPECT_EQ(model.peft_params().num_elements(), lora_elements + L * 2 * 2 * H);
  // LoRA's tensors come first, then the prefix's, whatever the re-layout did.
  EXPECT_NE(model.peft_params().views().front().name.find("lora_A"), std::string::npos);
  EXPECT_NE(model.peft_params().views().back().name.find("prefix_value"), std::string::npos);
  model.mean_pooled(batch, b);
  EXPECT_FALSE(same_bits(a, b));
}

TEST(Peft, TrainHeadAddsTheHeadsOwnTensors) {
  mezo::MaskedLM model = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  model.enable_lora({.rank = 2, .train_head = true});
  EXPECT_NE(model.peft_params().find("lm_head.dense.weight"), nullptr);
  EXPECT_EQ(model.peft_params().find("roberta.embeddings.word_embeddings.weight"), nullptr);
}

// The forward with LoRA on every target and a prefix gives the same bits on
// 1, 2 and 3 threads (as the base forward does, masked_lm_test).
TEST(Peft, ForwardBitsDoNotDependOnTheThreadCount) {
  const mezo::TransformerConfig config = mezo_test::multi_piece_config();
  const mezo::TokenBatch batch = mezo_test::multi_piece_batch();
  std::vector<std::vector<float>> hidden;
  for (int threads : {1, 2, 3}) {
    auto model = mezo::MaskedLM::random(config, 11, {.num_threads = threads});
    model.enable_lora({.rank = 4, .targets = all_targets(), .seed = 1});
    model.enable_prefix({.tokens = 5, .seed = 2});
    mezo::perturb_inplace(model.peft_params(), *mezo::gaussian_perturbation(), 3, 0.05f);
    hidden.push_back(hidden_of(model, batch));
  }
  EXPECT_TRUE(same_bits(hidden[0], hidden[1]));
  EXPECT_TRUE(same_bits(hidden[0], hidden[2]));
}

TEST(Peft, BadOptionsAndMisuseAreClearErrors) {
  mezo::MaskedLM model = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  const auto expect_error = [](auto&& f, const char* what) {
    try {
      f();
      ADD_FAILURE() << "expected an error mentioning '" << what << "'";
    } catch (const mezo::Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error([&] { model.enable_lora({.rank = 0}); }, "rank must be >= 1");
  expect_error([&] { model.enable_lora({.alpha = 0}); }, "alpha");
  expect_error([&] { model.enable_lora({.targets = {}}); }, "no targets");
  expect_error(
      [&] {
        model.enable_lora({.targets = {mezo::LoraTarget::query, mezo::LoraTarget::query}});
      },
      "listed twice");
  expect_error([] { mezo::parse_lora_target("qkv"); }, "unknown LoRA target 'qkv'");
  EXPECT_EQ(mezo::parse_lora_target("attention_output"), mezo::LoraTarget::attention_output);
  expect_error([] { mezo::parse_prefix_init("zeros"); }, "unknown prefix init");
  expect_error([&] { model.merge_lora(); }, "LoRA is not enabled");
  expect_error([&] { model.unmerge_lora(); }, "not merged");
  expect_error([&] { model.enable_prefix({.tokens = -1}); }, "tokens must be >= 0");
  expect_error([&] { model.enable_prefix({.tokens = 60}); }, "exceed the model's");
  EXPECT_TRUE(model.peft_params().empty()) << "a failed enable left tensors behind";
  model.enable_lora({});
  expect_error([&] { model.enable_lora({}); }, "already enabled");
  model.merge_lora();
  expect_error([&] { model.merge_lora(); }, "already merged");
  expect_error([&] { model.enable_prefix({}); }, "while LoRA is merged");
  model.unmerge_lora();
  model.enable_prefix({.tokens = 2});
  expect_error([&] { model.enable_prefix({}); }, "already enabled");
}

}  // namespace
