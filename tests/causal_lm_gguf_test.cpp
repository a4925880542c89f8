// CausalLM to and from GGUF: round trips bit for bit (GGUF → F32 GGUF → load,
// HF → GGUF → HF), llama.cpp's q/k row order in the file, F16 and Q8_0
// export, Llama 3.1 RoPE scaling as rope_freqs, and errors naming the tensor.
#include <gtest/gtest.h>

#include <cmath>
#include <mezo/io/gguf.hpp>
#include <mezo/io/safetensors.hpp>
#include <mezo/model/causal_lm.hpp>
#include <vector>

#include "decoder_test_support.hpp"
#include "model/llama/tensor_table.hpp"
#include "test_support.hpp"

namespace {

using mezo_test::error_of;
using mezo_test::expect_same_params;
using mezo_test::tiny_llama_config;

mezo::DecoderConfig tiny_qwen2_config() {
  auto c = tiny_llama_config(true);
  c.arch = mezo::DecoderArch::qwen2;
  c.qkv_bias = true;
  return c;
}

// Gives the zero biases of a random model values, so a misplaced bias shows.
void randomize_biases(mezo::CausalLM& model) {
  for (const auto& view : model.params().views()) {
    if (!view.name.ends_with(".bias")) continue;
    for (std::uint64_t i = 0; i < view.size; ++i)
      view.f32()[i] = 0.01f * static_cast<float>(i % 7) - 0.03f;
  }
}

std::vector<float> last_logits(mezo::CausalLM& model) {
  const auto batch = mezo_test::decoder_batch(2, 50, 3, model.vocab_size());
  const std::vector<mezo::TokenQuery> queries = {{0, 49}, {1, 52}, {1, 7}};
  std::vector<float> out(queries.size() * static_cast<std::size_t>(model.vocab_size()));
  model.logits(batch, queries, {}, out);
  return out;
}

TEST(CausalLMGguf, F32ExportLoadsBackBitIdenticalForEveryLayout) {
  for (const auto& config :
       {tiny_llama_config(true), tiny_llama_config(false), tiny_qwen2_config()}) {
    mezo_test::TempDir dir;
    auto model = mezo::CausalLM::random(config, 11, {.num_threads = 1});
    randomize_biases(model);
    model.save_gguf(dir / "model.gguf");
    auto loaded = mezo::CausalLM::load(dir / "model.gguf", {.num_threads = 1});
    expect_same_params(model, loaded);
    EXPECT_EQ(loaded.config().tie_word_embeddings, config.tie_word_embeddings);
    EXPECT_EQ(loaded.config().arch, config.arch);
    EXPECT_EQ(loaded.config().num_key_value_heads, config.num_key_value_heads);
    EXPECT_EQ(last_logits(model), last_logits(loaded));
    // Exporting again writes the same bytes.
    loaded.save_gguf(dir / "again.gguf");
    EXPECT_EQ(mezo_test::read_bytes(dir / "model.gguf"), mezo_test::read_bytes(dir / "again.gguf"));
  }
}

TEST(CausalLMGguf, HfToGgufToHfIsBitIdentical) {
  mezo_test::TempDir dir;
  auto model = mezo::CausalLM::random(tiny_llama_config(false), 12, {.num_threads = 1});
  model.save_pretrained(dir / "hf");
  auto from_hf = mezo::CausalLM::load(dir / "hf", {.num_threads = 1});
  from_hf.save_gguf(dir / "model.gguf");
  auto from_gguf = mezo::CausalLM::load(dir / "model.gguf", {.num_threads = 1});
  from_gguf.save_pretrained(dir / "hf2");
  EXPECT_EQ(mezo_test::read_bytes(dir / "hf" / "model.safetensors"),
            mezo_test::read_bytes(dir / "hf2" / "model.safetensors"));
}

// The file holds llama.cpp's row order for llama's q and k (not qwen2's).
TEST(CausalLMGguf, LlamaQueryAndKeyRowsArePermutedInTheFile) {
  for (const auto& config : {tiny_llama_config(), tiny_qwen2_config()}) {
    mezo_test::TempDir dir;
    auto model = mezo::CausalLM::random(config, 13, {.num_threads = 1});
    model.save_gguf(dir / "model.gguf");
    const auto file = mezo::GgufFile::open(dir / "model.gguf");
    for (const auto& [hf, gguf, heads] :
         {std::tuple{"model.layers.1.self_attn.q_proj.weight", "blk.1.attn_q.weight",
                     config.num_attention_heads},
          std::tuple{"model.layers.1.self_attn.k_proj.weight", "blk.1.attn_k.weight",
                     config.num_key_value_heads}}) {
      const auto& view = *model.params().find(hf);
      std::vector<float> expected(view.f32(), view.f32() + view.size);
      if (config.arch == mezo::DecoderArch::llama)
        mezo::model::llama::permute_rope_rows(expected.data(), heads, config.head_dim,
                                              config.hidden_size, /*to_hf=*/false);
      std::vector<float> stored(view.size);
      file.read_f32(file.get_tensor(gguf), stored);
      EXPECT_EQ(stored, expected) << gguf << " of " << mezo::to_string(config.arch);
    }
  }
}

TEST(CausalLMGguf, F16AndQ8ExportsStayWithinTheirRounding) {
  mezo_test::TempDir dir;
  auto model = mezo::CausalLM::random(tiny_llama_config(), 14, {.num_threads = 1});
  for (const auto& [type, relative] :
       {std::pair{mezo::GgmlType::f16, 1.0 / 1024}, std::pair{mezo::GgmlType::q8_0, 1.0 / 127}}) {
    const auto path = dir / (mezo::to_string(type) + ".gguf");
    model.save_gguf(path, type);
    const auto file = mezo::GgufFile::open(path);
    EXPECT_EQ(file.get_tensor("blk.0.ffn_up.weight").type, type);
    EXPECT_EQ(file.get_tensor("blk.0.attn_norm.weight").type, mezo::GgmlType::f32);
    auto loaded = mezo::CausalLM::load(path, {.num_threads = 1});
    for (std::size_t v = 0; v < model.params().views().size(); ++v) {
      const auto& x = model.params().views()[v];
      const auto& y = loaded.params().views()[v];
      float scale = 0.0f;
      for (std::uint64_t i = 0; i < x.size; ++i) scale = std::max(scale, std::abs(x.f32()[i]));
      for (std::uint64_t i = 0; i < x.size; ++i)
        ASSERT_NEAR(y.f32()[i], x.f32()[i], scale * relative) << x.name << "[" << i << "]";
    }
  }
}

// Llama 3.1's RoPE scaling travels as llama.cpp's rope_freqs tensor and gives
// the same logits after loading.
TEST(CausalLMGguf, Llama3RopeScalingTravelsAsRopeFreqs) {
  mezo_test::TempDir dir;
  auto config = tiny_llama_config();
  config.rope_theta = 500000.0f;
  config.rope_scaling = {.llama3 = true,
                         .factor = 8.0f,
                         .low_freq_factor = 1.0f,
                         .high_freq_factor = 4.0f,
                         .original_max_position_embeddings = 32};
  auto model = mezo::CausalLM::random(config, 15, {.num_threads = 1});
  model.save_gguf(dir / "model.gguf");
  auto loaded = mezo::CausalLM::load(dir / "model.gguf", {.num_threads = 1});
  ASSERT_EQ(loaded.config().rope_freq_factors.size(), 8u);
  const auto want = last_logits(model), got = last_logits(loaded);
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5);
  // The scaling matters at these lengths: without it the logits differ.
  auto plain_config = config;
  plain_config.rope_scaling = {};
  auto plain = mezo::CausalLM::random(plain_config, 15, {.num_threads = 1});
  EXPECT_NE(last_logits(plain), want);
}

TEST(CausalLMGguf, AWrongOrMissingTensorIsNamed) {
  mezo_test::TempDir dir;
  auto model = mezo::CausalLM::random(tiny_llama_config(), 16, {.num_threads = 1});
  model.save_gguf(dir / "model.gguf");
  const auto file = mezo::GgufFile::open(dir / "model.gguf");
  const auto rewrite = [&](const std::string& drop, const std::string& reshape) {
    std::vector<std::vector<float>> data;
    std::vector<mezo::GgufTensorToWrite> tensors;
    for (const auto& info : file.tensors()) {
      if (info.name == drop) continue;
      auto& values = data.emplace_back(info.num_elements());
      file.read_f32(info, values);
      auto shape = info.shape();
      if (info.name == reshape) shape = {shape[1], shape[0]};
      tensors.push_back({info.name, shape, values, mezo::GgmlType::f32});
    }
    const std::vector<std::pair<std::string, mezo::GgufValue>> metadata(file.metadata().begin(),
                                                                        file.metadata().end());
    mezo::write_gguf(dir / "broken.gguf", metadata, tensors);
  };
  rewrite("blk.1.ffn_gate.weight", "");
  EXPECT_CONTAINS(
      error_of([&] { mezo::CausalLM::load(dir / "broken.gguf"); }, mezo::ErrorCode::invalid_format),
      "tensor 'blk.1.ffn_gate.weight' is missing");
  rewrite("", "blk.0.ffn_down.weight");
  EXPECT_CONTAINS(
      error_of([&] { mezo::CausalLM::load(dir / "broken.gguf"); }, mezo::ErrorCode::invalid_format),
      "tensor 'blk.0.ffn_down.weight' has shape [96, 64]");
}

}  // namespace
