// CausalLM against transformers: tiny random Llama (GQA; tied and untied, with
// Llama 3.1 RoPE scaling), Qwen2 and Gemma 3 (sliding-window layers with a
// 4-token window, far shorter than the rows; tools/make_gemma3_fixtures.py)
// checkpoints, as HF safetensors (F32, and
// F16 sharded) and GGUF (F32 with llama.cpp's q/k permutation, Q8_0, Q4_1,
// Q4_K), and transformers' logits on a padded batch of 56, 48 and 23 tokens at
// many positions (a wrong RoPE pairing still gets short prompts right). The
// reference for a quantized file is transformers run on its dequantized
// weights. Fixtures: tools/make_decoder_fixtures.py (its header says how to
// regenerate them).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <mezo/model/causal_lm.hpp>
#include <mezo/model/language_model.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kDecoders = fs::path(MEZO_TEST_FIXTURES_DIR) / "decoder";

struct Case {
  std::string model;    // folder under tests/fixtures/decoder
  std::string variant;  // expected.json "variants" key
  std::string file;     // HF folder or .gguf file in the model's folder
};

std::ostream& operator<<(std::ostream& out, const Case& c) {
  return out << c.model << "/" << c.file;
}

class DecoderParity : public testing::TestWithParam<Case> {};

double log_sum_exp(const float* row, std::size_t n) {
  double max = -INFINITY, sum = 0;
  for (std::size_t i = 0; i < n; ++i) max = std::max(max, double{row[i]});
  for (std::size_t i = 0; i < n; ++i) sum += std::exp(row[i] - max);
  return max + std::log(sum);
}

TEST_P(DecoderParity, LogitsAndNllMatchTransformers) {
  const Case& c = GetParam();
  std::ifstream in(kDecoders / c.model / "expected.json");
  ASSERT_TRUE(in) << "missing fixture " << c.model;
  const auto expected = nlohmann::json::parse(in);
  const auto rows = expected.at("input_ids").get<std::vector<std::vector<std::int32_t>>>();
  const auto lengths = expected.at("lengths").get<std::vector<std::int32_t>>();
  std::vector<std::vector<std::int32_t>> sequences;
  for (std::size_t r = 0; r < rows.size(); ++r)
    sequences.emplace_back(rows[r].begin(), rows[r].begin() + lengths[r]);
  const auto batch = mezo::TokenBatch::pad(sequences, 0);
  const auto& variant = expected.at("variants").at(c.variant);

  auto model = mezo::load_model(kDecoders / c.model / c.file, {.num_threads = 2});
  ASSERT_EQ(model->family(), mezo::ModelFamily::causal_lm);
  const auto vocab = static_cast<std::size_t>(model->vocab_size());

  // Logits at the recorded positions.
  std::vector<mezo::TokenQuery> queries;
  for (const auto& p : variant.at("positions")) queries.push_back({p[0], p[1]});
  std::vector<float> logits(queries.size() * vocab);
  model->logits(batch, queries, {}, logits);
  const auto want = variant.at("logits").get<std::vector<std::vector<float>>>();
  double worst = 0;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    double scale = 1e-3;  // relative to the row's largest logit
    for (const float x : want[q]) scale = std::max(scale, double{std::abs(x)});
    for (std::size_t j = 0; j < vocab; ++j) {
      const double error = std::abs(logits[q * vocab + j] - want[q][j]) / scale;
      worst = std::max(worst, error);
      ASSERT_LT(error, 1e-5) << "query (" << queries[q].row << ", " << queries[q].position
                             << "), id " << j << ": " << logits[q * vocab + j] << " vs "
                             << want[q][j];
    }
  }
  // The mean NLL of each row's next tokens, from every position.
  const auto nll = variant.at("nll").get<std::vector<double>>();
  for (std::size_t r = 0; r < sequences.size(); ++r) {
    std::vector<mezo::TokenQuery> every;
    for (std::int32_t t = 0; t + 1 < lengths[r]; ++t) every.push_back({std::int64_t(r), t});
    std::vector<float> all(every.size() * vocab);
    model->logits(batch, every, {}, all);
    double sum = 0;
    for (std::size_t t = 0; t < every.size(); ++t)
      sum += log_sum_exp(&all[t * vocab], vocab) - all[t * vocab + sequences[r][t + 1]];
    EXPECT_NEAR(sum / double(every.size()), nll[r], 1e-5 * nll[r]) << "row " << r;
  }
  std::printf("%s: worst logit error %.3g of the row's largest logit\n", c.file.c_str(), worst);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, DecoderParity,
                         testing::Values(Case{"tiny-llama", "f32", "hf"},
                                         Case{"tiny-llama", "f32", "hf-f16-sharded"},
                                         Case{"tiny-llama", "f32", "model-f32.gguf"},
                                         Case{"tiny-llama", "q8_0", "model-q8_0.gguf"},
                                         Case{"tiny-llama", "q4_1", "model-q4_1.gguf"},
                                         Case{"tiny-llama-ffn256", "q4_k", "model-q4_k.gguf"},
                                         Case{"tiny-llama-untied", "f32", "hf"},
                                         Case{"tiny-llama-untied", "f32", "model-f32.gguf"},
                                         Case{"tiny-llama3-scaled", "f32", "hf"},
                                         Case{"tiny-llama3-scaled", "f32", "model-f32.gguf"},
                                         Case{"tiny-qwen2", "f32", "hf"},
                                         Case{"tiny-qwen2", "f32", "model-f32.gguf"},
                                         Case{"tiny-gemma3", "f32", "hf"},
                                         Case{"tiny-gemma3", "f32", "model-f32.gguf"}),
                         [](const testing::TestParamInfo<Case>& info) {
                           std::string name = info.param.model + "_" + info.param.file;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

}  // namespace
