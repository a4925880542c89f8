// The transformer forward against the PyTorch reference: tiny random RoBERTa
// and BERT checkpoints and the reference's outputs on a padded batch, made by
// tools/make_model_fixtures.py (see there for how to regenerate them).
#include <gtest/gtest.h>

#include <cmath>
#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mezo/io/safetensors.hpp>
#include <mezo/mezo.hpp>
#include <mezo/model/masked_lm.hpp>
#include <nlohmann/json.hpp>
#include <vector>

#include "model_test_support.hpp"
#include "portable_random/pinned_values.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = MEZO_TEST_FIXTURES_DIR;

struct Reference {
  mezo::TokenBatch batch;
  std::vector<std::vector<std::vector<float>>> hidden;  // [row][real position][hidden]
  std::vector<mezo::MaskQuery> queries;
  std::vector<std::vector<float>> logits;  // [query][vocab]
};

Reference load_reference(const fs::path& folder) {
  std::ifstream in(folder / "expected.json");
  const auto j = nlohmann::json::parse(in);
  Reference ref;
  std::vector<std::vector<std::int32_t>> rows = j.at("input_ids");
  ref.batch.rows = static_cast<std::int64_t>(rows.size());
  ref.batch.seq_len = static_cast<std::int64_t>(rows[0].size());
  for (const auto& row : rows) ref.batch.ids.insert(ref.batch.ids.end(), row.begin(), row.end());
  ref.batch.lengths = j.at("lengths").get<std::vector<std::int32_t>>();
  ref.hidden = j.at("hidden").get<decltype(ref.hidden)>();
  for (const auto& q : j.at("queries"))
    ref.queries.push_back({q[0].get<std::int64_t>(), q[1].get<std::int64_t>()});
  ref.logits = j.at("logits").get<decltype(ref.logits)>();
  return ref;
}

struct Error {
  double max_abs = 0, max_ref = 0;
  void add(double ours, double ref) {
    max_abs = std::max(max_abs, std::abs(ours - ref));
    max_ref = std::max(max_ref, std::abs(ref));
  }
  double relative() const { return max_abs / max_ref; }
};

class MaskedLMParity : public ::testing::TestWithParam<const char*> {};

// Target from the issue: 1e-5 relative to the largest reference value. What
// we reach is printed (see also docs/ for the recorded figures).
TEST_P(MaskedLMParity, MatchesTheReferenceForward) {
  const fs::path folder = kFixtures / GetParam();
  const Reference ref = load_reference(folder);
  for (int threads : {1, 2}) {
    mezo::MaskedLM model = mezo::MaskedLM::load(folder, {.num_threads = threads});
    const auto& c = model.config();
    std::vector<float> hidden(
        static_cast<std::size_t>(ref.batch.rows * ref.batch.seq_len * c.hidden_size));
    model.last_hidden_state(ref.batch, hidden);
    Error hidden_error;
    for (std::size_t r = 0; r < ref.hidden.size(); ++r) {
      for (std::size_t t = 0; t < ref.hidden[r].size(); ++t) {
        for (std::int64_t e = 0; e < c.hidden_size; ++e) {
          hidden_error.add(hidden[(r * ref.batch.seq_len + t) * c.hidden_size + e],
                           ref.hidden[r][t][e]);
        }
      }
    }
    std::vector<float> logits(ref.queries.size() * static_cast<std::size_t>(c.vocab_size));
    model.mlm_logits(ref.batch, ref.queries, {}, logits);
    Error logit_error;
    for (std::size_t q = 0; q < ref.queries.size(); ++q) {
      for (std::int64_t v = 0; v < c.vocab_size; ++v)
        logit_error.add(logits[q * c.vocab_size + v], ref.logits[q][v]);
    }
    std::printf("%s, %d threads: hidden max abs %.3g (rel %.3g), logits max abs %.3g (rel %.3g)\n",
                GetParam(), threads, hidden_error.max_abs, hidden_error.relative(),
                logit_error.max_abs, logit_error.relative());
    EXPECT_LT(hidden_error.relative(), 1e-5);
    EXPECT_LT(logit_error.relative(), 1e-5);
  }
}

TEST_P(MaskedLMParity, SelectedVocabularyIdsEqualTheFullHeadsColumns) {
  const fs::path folder = kFixtures / GetParam();
  const Reference ref = load_reference(folder);
  mezo::MaskedLM model = mezo::MaskedLM::load(folder);
  const std::int64_t V = model.config().vocab_size;
  std::vector<float> full(ref.queries.size() * static_cast<std::size_t>(V));
  model.mlm_logits(ref.batch, ref.queries, {}, full);
  const std::vector<std::int32_t> ids = {7, 300, 42};
  std::vector<float> some(ref.queries.size() * ids.size());
  model.mlm_logits(ref.batch, ref.queries, ids, some);
  for (std::size_t q = 0; q < ref.queries.size(); ++q) {
    for (std::size_t j = 0; j < ids.size(); ++j) {
      EXPECT_NEAR(some[q * ids.size() + j], full[q * V + ids[j]], 1e-5f);
    }
  }
}

// Padding must not leak: a row's result is the same alone or padded in a batch.
TEST_P(MaskedLMParity, PaddingDoesNotChangeARowsResult) {
  const fs::path folder = kFixtures / GetParam();
  const Reference ref = load_reference(folder);
  mezo::MaskedLM model = mezo::MaskedLM::load(folder);
  const std::int64_t V = model.config().vocab_size;
  const std::vector<std::int32_t> short_row(
      ref.batch.ids.begin() + 2 * ref.batch.seq_len,
      ref.batch.ids.begin() + 2 * ref.batch.seq_len + ref.batch.lengths[2]);
  const std::vector<std::vector<std::int32_t>> alone = {short_row};
  const auto batch =
      mezo::TokenBatch::pad(alone, static_cast<std::int32_t>(model.config().pad_token_id));
  const std::vector<mezo::MaskQuery> q = {{0, 1}};
  std::vector<float> logits(static_cast<std::size_t>(V));
  model.mlm_logits(batch, q, {}, logits);
  for (std::int64_t v = 0; v < V; ++v) EXPECT_NEAR(logits[v], ref.logits.back()[v], 1e-4f) << v;
}

TEST_P(MaskedLMParity, ExposesEveryTrainableTensorInOneBuffer) {
  mezo::MaskedLM model = mezo::MaskedLM::load(kFixtures / GetParam());
  const auto views = model.params().views();
  ASSERT_FALSE(views.empty());
  for (std::size_t i = 1; i < views.size(); ++i) {
    EXPECT_EQ(views[i].f32(), views[i - 1].f32() + views[i - 1].size) << views[i].name;
  }
  EXPECT_NE(model.params().find(std::string(GetParam()) == "tiny-roberta"
                                    ? "roberta.encoder.layer.1.attention.self.query.weight"
                                    : "bert.encoder.layer.1.attention.self.query.weight"),
            nullptr);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, MaskedLMParity, ::testing::Values("tiny-roberta", "tiny-bert"));

TEST(MaskedLM, PerturbingTheParamsChangesTheLogits) {
  mezo::MaskedLM model = mezo::MaskedLM::load(kFixtures / "tiny-roberta");
  const std::vector<std::vector<std::int32_t>> rows = {{0, 10, 20, 30, 2}};
  const auto batch = mezo::TokenBatch::pad(rows, 1);
  const std::vector<mezo::MaskQuery> q = {{0, 2}};
  const std::vector<std::int32_t> ids = {5, 6};
  std::vector<float> before(2), after(2), restored(2);
  model.mlm_logits(batch, q, ids, before);
  const auto perturbation = mezo::gaussian_perturbation();
  mezo::perturb_inplace(model.params(), *perturbation, 3, 1e-2f);
  model.mlm_logits(batch, q, ids, after);
  mezo::perturb_inplace(model.params(), *perturbation, 3, -1e-2f);
  model.mlm_logits(batch, q, ids, restored);
  EXPECT_NE(before, after);
  EXPECT_NEAR(restored[0], before[0], 1e-4f);
}

// Determinism (issue 8): the same weights and batch give the same bits on 1,
// 2 and 3 threads, on a shape whose matrix products are all cut into several
// pieces (model_test_support.hpp).
TEST(MaskedLM, ForwardBitsDoNotDependOnTheThreadCount) {
  const mezo::TransformerConfig config = mezo_test::multi_piece_config();
  const mezo::TokenBatch batch = mezo_test::multi_piece_batch();
  const std::vector<mezo::MaskQuery> queries = {{0, 3}, {5, 40}, {7, 60}};
  std::vector<std::vector<float>> hidden, logits;
  for (int threads : {1, 2, 3}) {
    auto model = mezo::MaskedLM::random(config, 11, {.num_threads = threads});
    hidden.emplace_back(static_cast<std::size_t>(batch.rows * batch.seq_len * config.hidden_size));
    model.last_hidden_state(batch, hidden.back());
    logits.emplace_back(queries.size() * config.vocab_size);
    model.mlm_logits(batch, queries, {}, logits.back());
  }
  for (std::size_t t = 1; t < hidden.size(); ++t) {
    EXPECT_EQ(0, std::memcmp(hidden[0].data(), hidden[t].data(), hidden[0].size() * sizeof(float)))
        << "last hidden states on 1 and " << t + 1 << " threads differ";
    EXPECT_EQ(0, std::memcmp(logits[0].data(), logits[t].data(), logits[0].size() * sizeof(float)))
        << "MLM logits on 1 and " << t + 1 << " threads differ";
  }
}

// Random weights come from libmezo's counter-based generator, not from
// std::normal_distribution (whose numbers differ between standard
// libraries): the values pinned in tests/portable_random/pinned_values.hpp,
// which CI checks under libc++ as well. Biases are 0 and LayerNorm gains 1.
TEST(MaskedLM, RandomWeightsAreThePinnedPortableDraws) {
  const mezo::MaskedLM model =
      mezo::MaskedLM::random(mezo_test::multi_piece_config(), pinned::kSeed);
  const mezo::ParamView& first = model.params().views().front();
  ASSERT_EQ(first.offset, 0u);
  ASSERT_NE(first.name.find("word_embeddings"), std::string::npos) << first.name;
  for (std::size_t k = 0; k < std::size(pinned::kEncoderWeightIndex); ++k) {
    ASSERT_LT(pinned::kEncoderWeightIndex[k], first.size);
    EXPECT_EQ(std::bit_cast<std::uint32_t>(first.f32()[pinned::kEncoderWeightIndex[k]]),
              pinned::kEncoderWeightBits[k])
        << "element " << pinned::kEncoderWeightIndex[k];
  }
  for (const mezo::ParamView& v : model.params().views()) {
    if (v.name.ends_with("LayerNorm.weight")) {
      EXPECT_EQ(v.f32()[0], 1.0f) << v.name;
    } else if (v.name.ends_with(".bias")) {
      EXPECT_EQ(v.f32()[0], 0.0f) << v.name;
    }
  }
}

TEST(MaskedLM, BadInputsAreClearErrors) {
  mezo::MaskedLM model = mezo::MaskedLM::load(kFixtures / "tiny-bert");
  std::vector<float> out(1);
  const std::vector<std::int32_t> one = {3};
  const auto expect_error = [&](const mezo::TokenBatch& b, std::vector<mezo::MaskQuery> q,
                                const char* what) {
    try {
      model.mlm_logits(b, q, one, out);
      ADD_FAILURE() << "expected an error mentioning '" << what << "'";
    } catch (const mezo::Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  const std::vector<std::vector<std::int32_t>> bad_id = {{101, 5000, 102}};
  expect_error(mezo::TokenBatch::pad(bad_id, 0), {{0, 1}}, "outside the vocabulary");
  const std::vector<std::vector<std::int32_t>> too_long = {std::vector<std::int32_t>(41, 5)};
  expect_error(mezo::TokenBatch::pad(too_long, 0), {{0, 1}}, "exceed");
  const std::vector<std::vector<std::int32_t>> fine = {{101, 5, 102}, {101, 102}};
  expect_error(mezo::TokenBatch::pad(fine, 0), {{1, 2}}, "not a real token");
  EXPECT_THROW(mezo::MaskedLM::load(kFixtures / "no-such-model"), mezo::Error);
}

}  // namespace

namespace {

TEST(MaskedLM, CheckpointThatDisagreesWithTheConfigIsAClearError) {
  const fs::path folder = kFixtures / "tiny-bert";
  auto config = mezo::load_transformer_config(folder / "config.json");
  config.intermediate_size = 64;
  try {
    mezo::MaskedLM::load(config, folder / "model.safetensors");
    FAIL() << "expected an error";
  } catch (const mezo::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bert.encoder.layer.0.intermediate.dense.weight"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
  }
}

TEST(MaskedLM, MissingTensorIsAClearError) {
  const fs::path folder = kFixtures / "tiny-bert";
  const auto file = mezo::SafetensorsFile::open(folder / "model.safetensors");
  std::vector<std::vector<float>> data;
  std::vector<mezo::TensorF32View> kept;
  data.reserve(file.tensors().size());
  for (const auto& t : file.tensors()) {
    if (t.name == "bert.encoder.layer.1.output.LayerNorm.bias") continue;
    data.emplace_back(t.num_elements());
    file.read_f32(t, data.back());
    kept.push_back({t.name, t.shape, data.back()});
  }
  const fs::path broken = fs::temp_directory_path() / "mezo_missing_tensor.safetensors";
  mezo::write_safetensors(broken, kept);
  try {
    mezo::MaskedLM::load(mezo::load_transformer_config(folder / "config.json"), broken);
    FAIL() << "expected an error";
  } catch (const mezo::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bert.encoder.layer.1.output.LayerNorm.bias"),
              std::string::npos)
        << e.what();
  }
  fs::remove(broken);
}

// Numerical faults (issue 8): a NaN or inf weight in a checkpoint is refused
// at load, naming the tensor and the element, instead of making every MeZO
// step a rejected one.
TEST(MaskedLM, NonFiniteWeightIsAClearError) {
  const fs::path folder = kFixtures / "tiny-bert";
  const auto file = mezo::SafetensorsFile::open(folder / "model.safetensors");
  for (float poison : {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    std::vector<std::vector<float>> data;
    std::vector<mezo::TensorF32View> tensors;
    data.reserve(file.tensors().size());
    for (const auto& t : file.tensors()) {
      data.emplace_back(t.num_elements());
      file.read_f32(t, data.back());
      if (t.name == "bert.encoder.layer.0.attention.self.value.weight") data.back()[17] = poison;
      tensors.push_back({t.name, t.shape, data.back()});
    }
    const fs::path broken = fs::temp_directory_path() / "mezo_nonfinite_weight.safetensors";
    mezo::write_safetensors(broken, tensors);
    try {
      mezo::MaskedLM::load(mezo::load_transformer_config(folder / "config.json"), broken);
      ADD_FAILURE() << "expected an error for a weight of " << poison;
    } catch (const mezo::Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("bert.encoder.layer.0.attention.self.value.weight"), std::string::npos) << what;
      EXPECT_NE(what.find("at element 17"), std::string::npos) << what;
    }
    fs::remove(broken);
  }
}

}  // namespace

namespace {

TEST(EncoderOnlyCheckpoint, LoadsWithoutAHeadAndMeanPoolsLikeTheReference) {
  const fs::path folder = kFixtures / "tiny-bert-encoder";
  std::ifstream in(folder / "expected.json");
  const auto j = nlohmann::json::parse(in);
  const std::vector<std::vector<std::int32_t>> ids = j.at("input_ids");
  const std::vector<std::int32_t> lengths = j.at("lengths");
  std::vector<std::vector<std::int32_t>> rows;
  for (std::size_t r = 0; r < ids.size(); ++r)
    rows.emplace_back(ids[r].begin(), ids[r].begin() + lengths[r]);
  const auto batch = mezo::TokenBatch::pad(rows, 0);

  mezo::MaskedLM model = mezo::MaskedLM::load(folder);
  EXPECT_FALSE(model.has_mlm_head());
  EXPECT_EQ(model.params().find("pooler.dense.weight"), nullptr)
      << "the pooler is not part of the model";
  const std::int64_t H = model.config().hidden_size;
  std::vector<float> pooled(rows.size() * static_cast<std::size_t>(H));
  model.mean_pooled(batch, pooled);
  const std::vector<std::vector<float>> expected = j.at("mean_pooled");
  Error error;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::int64_t e = 0; e < H; ++e) error.add(pooled[r * H + e], expected[r][e]);
  }
  std::printf("tiny-bert-encoder mean pooled: max abs %.3g (rel %.3g)\n", error.max_abs,
              error.relative());
  EXPECT_LT(error.relative(), 1e-5);

  std::vector<float> logits(2);
  const std::vector<mezo::MaskQuery> q = {{0, 1}};
  const std::vector<std::int32_t> words = {5, 6};
  try {
    model.mlm_logits(batch, q, words, logits);
    FAIL() << "expected an error";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::unsupported);
  }
}

}  // namespace

namespace {

TEST(MaskedLM, SavePretrainedRoundTrips) {
  for (auto type : {mezo::ModelType::roberta, mezo::ModelType::bert}) {
    mezo::TransformerConfig c;
    c.model_type = type;
    c.vocab_size = 50, c.hidden_size = 16, c.num_hidden_layers = 1, c.num_attention_heads = 2;
    c.intermediate_size = 32, c.max_position_embeddings = 20, c.type_vocab_size = 1,
    c.pad_token_id = 1;
    mezo::MaskedLM model = mezo::MaskedLM::random(c, 5);
    const fs::path dir = fs::temp_directory_path() / "mezo_saved_model";
    model.save_pretrained(dir);
    mezo::MaskedLM loaded = mezo::MaskedLM::load(dir);
    EXPECT_EQ(loaded.num_parameters(), model.num_parameters());
    const std::vector<std::vector<std::int32_t>> rows = {{0, 7, 8, 9, 2}};
    const auto batch = mezo::TokenBatch::pad(rows, 1);
    const std::vector<mezo::MaskQuery> q = {{0, 2}};
    std::vector<float> a(50), b(50);
    model.mlm_logits(batch, q, {}, a);
    loaded.mlm_logits(batch, q, {}, b);
    EXPECT_EQ(a, b);
    fs::remove_all(dir);
  }
}

}  // namespace
