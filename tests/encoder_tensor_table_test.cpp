// The encoder family's tensor table (model/bert/tensor_table.hpp) against a
// hard-coded list of names and shapes: the buffer order is z's element
// numbering, which the tests and recorded runs depend on, so the table must
// give exactly the layout the hand-written lists gave before it.
#include <gtest/gtest.h>

#include <cstdint>
#include <mezo/model/masked_lm.hpp>
#include <mezo/params.hpp>
#include <string>
#include <utility>
#include <vector>

#include "model/bert/tensor_table.hpp"

namespace {

using mezo::model::bert::Naming;
using mezo::model::bert::TensorSpec;
using Layout = std::vector<std::pair<std::string, std::vector<std::int64_t>>>;

mezo::TransformerConfig tiny(mezo::ModelType type) {
  mezo::TransformerConfig c;
  c.model_type = type;
  c.vocab_size = 10;
  c.hidden_size = 4;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 6;
  c.max_position_embeddings = 12;
  c.type_vocab_size = type == mezo::ModelType::roberta ? 1 : 2;
  c.pad_token_id = 1;
  return c;
}

Layout layout(const std::vector<TensorSpec>& table) {
  Layout out;
  for (const TensorSpec& spec : table) out.emplace_back(spec.hf_name, spec.shape);
  return out;
}

// RoBERTa, untied, with the head: the order of the hand-written lay_out.
const Layout kRoberta = {
    {"roberta.embeddings.word_embeddings.weight", {10, 4}},
    {"roberta.embeddings.position_embeddings.weight", {12, 4}},
    {"roberta.embeddings.token_type_embeddings.weight", {1, 4}},
    {"roberta.embeddings.LayerNorm.weight", {4}},
    {"roberta.embeddings.LayerNorm.bias", {4}},
    {"roberta.encoder.layer.0.attention.self.query.weight", {4, 4}},
    {"roberta.encoder.layer.0.attention.self.query.bias", {4}},
    {"roberta.encoder.layer.0.attention.self.key.weight", {4, 4}},
    {"roberta.encoder.layer.0.attention.self.key.bias", {4}},
    {"roberta.encoder.layer.0.attention.self.value.weight", {4, 4}},
    {"roberta.encoder.layer.0.attention.self.value.bias", {4}},
    {"roberta.encoder.layer.0.attention.output.dense.weight", {4, 4}},
    {"roberta.encoder.layer.0.attention.output.dense.bias", {4}},
    {"roberta.encoder.layer.0.attention.output.LayerNorm.weight", {4}},
    {"roberta.encoder.layer.0.attention.output.LayerNorm.bias", {4}},
    {"roberta.encoder.layer.0.intermediate.dense.weight", {6, 4}},
    {"roberta.encoder.layer.0.intermediate.dense.bias", {6}},
    {"roberta.encoder.layer.0.output.dense.weight", {4, 6}},
    {"roberta.encoder.layer.0.output.dense.bias", {4}},
    {"roberta.encoder.layer.0.output.LayerNorm.weight", {4}},
    {"roberta.encoder.layer.0.output.LayerNorm.bias", {4}},
    {"roberta.encoder.layer.1.attention.self.query.weight", {4, 4}},
    {"roberta.encoder.layer.1.attention.self.query.bias", {4}},
    {"roberta.encoder.layer.1.attention.self.key.weight", {4, 4}},
    {"roberta.encoder.layer.1.attention.self.key.bias", {4}},
    {"roberta.encoder.layer.1.attention.self.value.weight", {4, 4}},
    {"roberta.encoder.layer.1.attention.self.value.bias", {4}},
    {"roberta.encoder.layer.1.attention.output.dense.weight", {4, 4}},
    {"roberta.encoder.layer.1.attention.output.dense.bias", {4}},
    {"roberta.encoder.layer.1.attention.output.LayerNorm.weight", {4}},
    {"roberta.encoder.layer.1.attention.output.LayerNorm.bias", {4}},
    {"roberta.encoder.layer.1.intermediate.dense.weight", {6, 4}},
    {"roberta.encoder.layer.1.intermediate.dense.bias", {6}},
    {"roberta.encoder.layer.1.output.dense.weight", {4, 6}},
    {"roberta.encoder.layer.1.output.dense.bias", {4}},
    {"roberta.encoder.layer.1.output.LayerNorm.weight", {4}},
    {"roberta.encoder.layer.1.output.LayerNorm.bias", {4}},
    {"lm_head.dense.weight", {4, 4}},
    {"lm_head.dense.bias", {4}},
    {"lm_head.layer_norm.weight", {4}},
    {"lm_head.layer_norm.bias", {4}},
    {"lm_head.decoder.weight", {10, 4}},
    {"lm_head.bias", {10}},
};

const Layout kBert = {
    {"bert.embeddings.word_embeddings.weight", {10, 4}},
    {"bert.embeddings.position_embeddings.weight", {12, 4}},
    {"bert.embeddings.token_type_embeddings.weight", {2, 4}},
    {"bert.embeddings.LayerNorm.weight", {4}},
    {"bert.embeddings.LayerNorm.bias", {4}},
    {"bert.encoder.layer.0.attention.self.query.weight", {4, 4}},
    {"bert.encoder.layer.0.attention.self.query.bias", {4}},
    {"bert.encoder.layer.0.attention.self.key.weight", {4, 4}},
    {"bert.encoder.layer.0.attention.self.key.bias", {4}},
    {"bert.encoder.layer.0.attention.self.value.weight", {4, 4}},
    {"bert.encoder.layer.0.attention.self.value.bias", {4}},
    {"bert.encoder.layer.0.attention.output.dense.weight", {4, 4}},
    {"bert.encoder.layer.0.attention.output.dense.bias", {4}},
    {"bert.encoder.layer.0.attention.output.LayerNorm.weight", {4}},
    {"bert.encoder.layer.0.attention.output.LayerNorm.bias", {4}},
    {"bert.encoder.layer.0.intermediate.dense.weight", {6, 4}},
    {"bert.encoder.layer.0.intermediate.dense.bias", {6}},
    {"bert.encoder.layer.0.output.dense.weight", {4, 6}},
    {"bert.encoder.layer.0.output.dense.bias", {4}},
    {"bert.encoder.layer.0.output.LayerNorm.weight", {4}},
    {"bert.encoder.layer.0.output.LayerNorm.bias", {4}},
    {"bert.encoder.layer.1.attention.self.query.weight", {4, 4}},
    {"bert.encoder.layer.1.attention.self.query.bias", {4}},
    {"bert.encoder.layer.1.attention.self.key.weight", {4, 4}},
    {"bert.encoder.layer.1.attention.self.key.bias", {4}},
    {"bert.encoder.layer.1.attention.self.value.weight", {4, 4}},
    {"bert.encoder.layer.1.attention.self.value.bias", {4}},
    {"bert.encoder.layer.1.attention.output.dense.weight", {4, 4}},
    {"bert.encoder.layer.1.attention.output.dense.bias", {4}},
    {"bert.encoder.layer.1.attention.output.LayerNorm.weight", {4}},
    {"bert.encoder.layer.1.attention.output.LayerNorm.bias", {4}},
    {"bert.encoder.layer.1.intermediate.dense.weight", {6, 4}},
    {"bert.encoder.layer.1.intermediate.dense.bias", {6}},
    {"bert.encoder.layer.1.output.dense.weight", {4, 6}},
    {"bert.encoder.layer.1.output.dense.bias", {4}},
    {"bert.encoder.layer.1.output.LayerNorm.weight", {4}},
    {"bert.encoder.layer.1.output.LayerNorm.bias", {4}},
    {"cls.predictions.transform.dense.weight", {4, 4}},
    {"cls.predictions.transform.dense.bias", {4}},
    {"cls.predictions.transform.LayerNorm.weight", {4}},
    {"cls.predictions.transform.LayerNorm.bias", {4}},
    {"cls.predictions.decoder.weight", {10, 4}},
    {"cls.predictions.bias", {10}},
};

constexpr std::size_t kBody = 5 + 2 * 16;  // the expectations' tensors before the head

// The expectation for a variant: tied drops the decoder matrix (second to
// last), no head drops the head.
Layout expected(const Layout& full, bool tied, bool with_head) {
  Layout out(full.begin(), full.begin() + kBody);
  if (!with_head) return out;
  for (std::size_t i = kBody; i < full.size(); ++i) {
    if (tied && i == full.size() - 2) continue;
    out.push_back(full[i]);
  }
  return out;
}

struct Family {
  mezo::ModelType type;
  const Layout* full;
};

class EncoderTensorTable : public ::testing::TestWithParam<Family> {};

TEST_P(EncoderTensorTable, GivesTheHandWrittenLayout) {
  const auto c = tiny(GetParam().type);
  const Naming n = mezo::model::bert::naming_for(c, nullptr);
  for (const bool tied : {true, false}) {
    for (const bool with_head : {true, false}) {
      SCOPED_TRACE(testing::Message() << "tied " << tied << ", head " << with_head);
      EXPECT_EQ(layout(mezo::model::bert::tensor_table(c, n, tied, with_head)),
                expected(*GetParam().full, tied, with_head));
    }
  }
}

TEST_P(EncoderTensorTable, StatesTheDefaultDecayRuleAndTheRoles) {
  const auto c = tiny(GetParam().type);
  const Naming n = mezo::model::bert::naming_for(c, nullptr);
  const auto table = mezo::model::bert::tensor_table(c, n, false, true);
  int lora = 0, head = 0;
  for (const TensorSpec& spec : table) {
    EXPECT_EQ(spec.weight_decay, mezo::default_weight_decay_for(spec.hf_name)) << spec.hf_name;
    EXPECT_EQ(spec.is_head, spec.layer < 0 && !spec.hf_name.starts_with(n.encoder)) << spec.hf_name;
    if (spec.lora) {
      ++lora;
      EXPECT_TRUE(spec.hf_name.ends_with(".dense.weight") ||
                  spec.hf_name.find("attention.self.") != std::string::npos)
          << spec.hf_name;
    }
    head += spec.is_head;
  }
  EXPECT_EQ(lora, 6 * 2);
  EXPECT_EQ(head, 6);
  // LoRA module names drop the encoder prefix: the same PEFT names for every export.
  EXPECT_EQ(mezo::model::bert::lora_module(table[5], n), "encoder.layer.0.attention.self.query");
  EXPECT_EQ(mezo::model::bert::lora_module(table[5 + 16 + 12], n),
            "encoder.layer.1.output.dense");
}

// What the GPU forward sees: the table read back from a model's params().
TEST_P(EncoderTensorTable, IsReadBackFromAModelsParams) {
  const auto c = tiny(GetParam().type);
  for (const bool untie : {false, true}) {
    const auto model = mezo::MaskedLM::random(c, 7, {.untie_decoder = untie});
    const auto table = mezo::model::bert::table_of(c, model.params());
    EXPECT_EQ(layout(table), expected(*GetParam().full, !untie, true));
    const auto views = model.params().views();
    ASSERT_EQ(views.size(), table.size());
    for (std::size_t i = 0; i < views.size(); ++i) {
      EXPECT_EQ(views[i].name, table[i].hf_name);
      EXPECT_EQ(views[i].group, table[i].weight_decay ? mezo::ParamSet::decay_group
                                                      : mezo::ParamSet::no_decay_group);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, EncoderTensorTable,
                         ::testing::Values(Family{mezo::ModelType::roberta, &kRoberta},
                                           Family{mezo::ModelType::bert, &kBert}),
                         [](const auto& info) {
                           return std::string(mezo::to_string(info.param.type));
                         });

// Naming follows the checkpoint: prefix-less exports and the decoder's own bias.
TEST(EncoderTensorTableNaming, FollowsTheCheckpoint) {
  const auto c = tiny(mezo::ModelType::roberta);
  const auto has = [](const std::string& name) {
    return name == "embeddings.word_embeddings.weight" || name == "lm_head.decoder.bias";
  };
  const Naming n = mezo::model::bert::naming_for(c, has);
  EXPECT_EQ(n.encoder, "");
  EXPECT_EQ(n.decoder_b, "lm_head.decoder.bias");
  EXPECT_TRUE(mezo::model::bert::has_head_tensor(n, has));
  const auto table = mezo::model::bert::tensor_table(c, n, true, true);
  EXPECT_EQ(table.front().hf_name, "embeddings.word_embeddings.weight");
  EXPECT_EQ(table[5].hf_name, "encoder.layer.0.attention.self.query.weight");
  EXPECT_EQ(mezo::model::bert::lora_module(table[5], n), "encoder.layer.0.attention.self.query");
  EXPECT_EQ(table.back().hf_name, "lm_head.decoder.bias");
}

}  // namespace
