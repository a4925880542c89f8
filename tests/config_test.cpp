// config.json parsing: real roberta-base and bert-base-uncased configs, the
// per-model defaults, and every bad field reported as a mezo::Error naming the
// file and the field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <mezo/error.hpp>
#include <mezo/model/config.hpp>
#include <string>

#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using mezo_test::error_of;

// roberta-base's config.json as published, with extra fields a parser must ignore.
constexpr const char* kRobertaBase = R"({
  "architectures": [
    "RobertaForMaskedLM"
  ],
  "attention_probs_dropout_prob": 0.1,
  "bos_token_id": 0,
  "classifier_dropout": null,
  "eos_token_id": 2,
  "hidden_act": "gelu",
  "hidden_dropout_prob": 0.1,
  "hidden_size": 768,
  "initializer_range": 0.02,
  "intermediate_size": 3072,
  "layer_norm_eps": 1e-05,
  "max_position_embeddings": 514,
  "model_type": "roberta",
  "num_attention_heads": 12,
  "num_hidden_layers": 12,
  "pad_token_id": 1,
  "position_embedding_type": "absolute",
  "transformers_version": "4.30.0",
  "type_vocab_size": 1,
  "use_cache": true,
  "vocab_size": 50265
}
)";

// bert-base-uncased's config.json as published.
constexpr const char* kBertBaseUncased = R"({
  "architectures": [
    "BertForMaskedLM"
  ],
  "attention_probs_dropout_prob": 0.1,
  "gradient_checkpointing": false,
  "hidden_act": "gelu",
  "hidden_dropout_prob": 0.1,
  "hidden_size": 768,
  "initializer_range": 0.02,
  "intermediate_size": 3072,
  "layer_norm_eps": 1e-12,
  "max_position_embeddings": 512,
  "model_type": "bert",
  "num_attention_heads": 12,
  "num_hidden_layers": 12,
  "pad_token_id": 0,
  "position_embedding_type": "absolute",
  "transformers_version": "4.6.0.dev0",
  "type_vocab_size": 2,
  "use_cache": true,
  "vocab_size": 30522
}
)";

// `text` with the one occurrence of `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "fixture lacks " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(Config, ParsesRobertaBase) {
  const mezo::TransformerConfig c = mezo::parse_transformer_config(kRobertaBase, "config.json");
  EXPECT_EQ(c.model_type, mezo::ModelType::roberta);
  EXPECT_EQ(c.vocab_size, 50265);
  EXPECT_EQ(c.hidden_size, 768);
  EXPECT_EQ(c.num_hidden_layers, 12);
  EXPECT_EQ(c.num_attention_heads, 12);
  EXPECT_EQ(c.intermediate_size, 3072);
  EXPECT_EQ(c.max_position_embeddings, 514);
  EXPECT_EQ(c.type_vocab_size, 1);
  EXPECT_EQ(c.layer_norm_eps, 1e-5f);
  EXPECT_EQ(c.pad_token_id, 1);
  EXPECT_EQ(c.hidden_act, "gelu");
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.head_dim(), 64);
}

TEST(Config, ParsesBertBaseUncased) {
  const mezo::TransformerConfig c =
      mezo::parse_transformer_config(kBertBaseUncased, "bert/config.json");
  EXPECT_EQ(c.model_type, mezo::ModelType::bert);
  EXPECT_EQ(c.vocab_size, 30522);
  EXPECT_EQ(c.hidden_size, 768);
  EXPECT_EQ(c.num_hidden_layers, 12);
  EXPECT_EQ(c.num_attention_heads, 12);
  EXPECT_EQ(c.intermediate_size, 3072);
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_EQ(c.layer_norm_eps, 1e-12f);
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_EQ(c.hidden_act, "gelu");
  EXPECT_TRUE(c.tie_word_embeddings);
}

TEST(Config, DefaultsDependOnModelType) {
  const std::string minimal_tail = R"(
    "vocab_size": 1000, "hidden_size": 64, "num_hidden_layers": 2,
    "num_attention_heads": 4, "intermediate_size": 128, "max_position_embeddings": 130})";
  const auto roberta =
      mezo::parse_transformer_config(R"({"model_type": "roberta",)" + minimal_tail, "r.json");
  EXPECT_EQ(roberta.type_vocab_size, 1);
  EXPECT_EQ(roberta.layer_norm_eps, 1e-5f);
  EXPECT_EQ(roberta.pad_token_id, 1);
  EXPECT_EQ(roberta.hidden_act, "gelu");
  EXPECT_TRUE(roberta.tie_word_embeddings);
  EXPECT_EQ(roberta.head_dim(), 16);

  const auto bert =
      mezo::parse_transformer_config(R"({"model_type": "bert",)" + minimal_tail, "b.json");
  EXPECT_EQ(bert.type_vocab_size, 2);
  EXPECT_EQ(bert.layer_norm_eps, 1e-12f);
  EXPECT_EQ(bert.pad_token_id, 0);
}

TEST(Config, ReadsOptionalFieldsWhenPresent) {
  std::string text = replaced(kRobertaBase, R"("use_cache": true)",
                              R"("use_cache": true, "tie_word_embeddings": false)");
  text = replaced(text, R"("layer_norm_eps": 1e-05)", R"("layer_norm_eps": 1)");  // an integer
  text = replaced(text, R"("type_vocab_size": 1)", R"("type_vocab_size": 0)");
  const auto c = mezo::parse_transformer_config(text, "config.json");
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.layer_norm_eps, 1.0f);
  EXPECT_EQ(c.type_vocab_size, 0);
}

TEST(Config, ModelTypeNames) {
  EXPECT_STREQ(mezo::to_string(mezo::ModelType::roberta), "roberta");
  EXPECT_STREQ(mezo::to_string(mezo::ModelType::bert), "bert");
}

// Each broken config must fail with a message naming the source and these parts.
struct BadCase {
  const char* label;
  std::string text;
  std::vector<std::string> expected;
};

std::vector<BadCase> bad_cases() {
  const std::string r = kRobertaBase;
  std::vector<BadCase> cases;
  cases.push_back({"invalid JSON",
                   replaced(r, R"("hidden_size": 768,)", R"("hidden_size": 768,,)"),
                   {"not valid JSON", "line 11"}});
  cases.push_back({"number out of range",
                   replaced(r, R"("layer_norm_eps": 1e-05)", R"("layer_norm_eps": 1e400)"),
                   {"not valid JSON", "1e400"}});
  cases.push_back({"truncated JSON", r.substr(0, 40), {"not valid JSON", "line"}});
  cases.push_back({"not an object", "[1, 2, 3]", {"object"}});
  for (const char* field :
       {"model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
        "intermediate_size", "max_position_embeddings"}) {
    const std::string key = std::string("\"") + field + "\"";
    cases.push_back({"missing field",
                     replaced(r, key, "\"renamed_field\""),
                     {std::string("'") + field + "'", "missing"}});
  }
  cases.push_back({"size as a string",
                   replaced(r, R"("hidden_size": 768)", R"("hidden_size": "768")"),
                   {"'hidden_size'", "integer", "string"}});
  cases.push_back({"size as a fraction",
                   replaced(r, R"("hidden_size": 768)", R"("hidden_size": 768.5)"),
                   {"'hidden_size'", "integer"}});
  cases.push_back({"size as null",
                   replaced(r, R"("vocab_size": 50265)", R"("vocab_size": null)"),
                   {"'vocab_size'", "integer", "null"}});
  cases.push_back({"zero layers",
                   replaced(r, R"("num_hidden_layers": 12)", R"("num_hidden_layers": 0)"),
                   {"'num_hidden_layers'", "positive"}});
  cases.push_back({"negative vocab",
                   replaced(r, R"("vocab_size": 50265)", R"("vocab_size": -5)"),
                   {"'vocab_size'", "positive"}});
  cases.push_back({"huge vocab",
                   replaced(r, R"("vocab_size": 50265)", R"("vocab_size": 18446744073709551615)"),
                   {"'vocab_size'", "range"}});
  cases.push_back({"negative type vocab",
                   replaced(r, R"("type_vocab_size": 1)", R"("type_vocab_size": -1)"),
                   {"'type_vocab_size'", "non-negative"}});
  cases.push_back({"heads do not divide hidden size",
                   replaced(r, R"("num_attention_heads": 12)", R"("num_attention_heads": 7)"),
                   {"'hidden_size'", "768", "num_attention_heads 7"}});
  cases.push_back({"unknown model type",
                   replaced(r, R"("model_type": "roberta")", R"("model_type": "xlm-roberta")"),
                   {"'model_type'", "xlm-roberta", "\"roberta\"", "\"bert\""}});
  cases.push_back({"model type not a string",
                   replaced(r, R"("model_type": "roberta")", R"("model_type": 3)"),
                   {"'model_type'", "string"}});
  cases.push_back({"relu",
                   replaced(r, R"("hidden_act": "gelu")", R"("hidden_act": "relu")"),
                   {"'hidden_act'", "relu", "gelu", "erf"}});
  cases.push_back({"tanh-approximated gelu",
                   replaced(r, R"("hidden_act": "gelu")", R"("hidden_act": "gelu_new")"),
                   {"'hidden_act'", "gelu_new", "erf"}});
  cases.push_back({"hidden_act not a string",
                   replaced(r, R"("hidden_act": "gelu")", R"("hidden_act": 1)"),
                   {"'hidden_act'", "string"}});
  cases.push_back({"eps as a string",
                   replaced(r, R"("layer_norm_eps": 1e-05)", R"("layer_norm_eps": "1e-5")"),
                   {"'layer_norm_eps'", "number"}});
  cases.push_back({"zero eps",
                   replaced(r, R"("layer_norm_eps": 1e-05)", R"("layer_norm_eps": 0)"),
                   {"'layer_norm_eps'", "positive"}});
  cases.push_back({"eps below fp32",
                   replaced(r, R"("layer_norm_eps": 1e-05)", R"("layer_norm_eps": 1e-60)"),
                   {"'layer_norm_eps'", "fp32"}});
  cases.push_back({"pad id out of vocab",
                   replaced(r, R"("pad_token_id": 1)", R"("pad_token_id": 50265)"),
                   {"'pad_token_id'", "50265", "vocab_size"}});
  cases.push_back({"negative pad id",
                   replaced(r, R"("pad_token_id": 1)", R"("pad_token_id": -1)"),
                   {"'pad_token_id'"}});
  cases.push_back(
      {"tie flag as a string",
       replaced(r, R"("use_cache": true)", R"("use_cache": true, "tie_word_embeddings": "yes")"),
       {"'tie_word_embeddings'", "true or false"}});
  return cases;
}

TEST(Config, BadConfigsAreErrorsNamingSourceAndField) {
  for (const BadCase& c : bad_cases()) {
    SCOPED_TRACE(c.label);
    const std::string msg =
        error_of([&] { mezo::parse_transformer_config(c.text, "models/rb/config.json"); },
                 mezo::ErrorCode::invalid_format);
    EXPECT_CONTAINS(msg, "models/rb/config.json");
    for (const std::string& part : c.expected) EXPECT_CONTAINS(msg, part);
  }
}

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mezo_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  fs::path dir_;
};

TEST_F(ConfigFile, LoadsFromDisk) {
  const auto c = mezo::load_transformer_config(write("config.json", kBertBaseUncased));
  EXPECT_EQ(c.model_type, mezo::ModelType::bert);
  EXPECT_EQ(c.vocab_size, 30522);
}

TEST_F(ConfigFile, ErrorsNameThePath) {
  const fs::path path =
      write("broken_config.json", replaced(kBertBaseUncased, "\"gelu\"", "\"relu\""));
  const std::string msg =
      error_of([&] { mezo::load_transformer_config(path); }, mezo::ErrorCode::invalid_format);
  EXPECT_CONTAINS(msg, path.string());
  EXPECT_CONTAINS(msg, "'hidden_act'");
}

TEST_F(ConfigFile, MissingFileIsAnIoError) {
  const std::string msg =
      error_of([&] { mezo::load_transformer_config(dir_ / "nope.json"); }, mezo::ErrorCode::io);
  EXPECT_CONTAINS(msg, "nope.json");
}

}  // namespace
