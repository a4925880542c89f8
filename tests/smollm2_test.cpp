// The real SmolLM2-135M-Instruct (Q4_1 GGUF from the pinned PyPI wheel,
// dequantized) against transformers' GGUF loader run on the same file
// (tests/fixtures/decoder/smollm2_reference.json, made by
// tools/make_real_model_reference.py): " Paris" after "The capital of France
// is", the NLL of a 98-token paragraph (RoPE pairing shows on long text), the
// SST-2 label words' logits; greedy generation (KV cache) equal to
// transformers' generate() token for token, after a plain prompt and after
// the GGUF's chat template (tests/fixtures/decoder/generation_reference.json,
// made by tools/make_generation_reference.py); export to F32 GGUF that loads back bit for bit
// with the tokenizer carried over; and bf16 compute's projected gradients
// against fp32's. Skips, saying how to fetch the model,
// when it is not there (tools/fetch_model.sh SmolLM2-135M-Instruct).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <mezo/mezo.hpp>
#include <mezo/model/causal_lm.hpp>
#include <mezo/model/generation.hpp>
#include <mezo/text/tokenizer.hpp>
#include <nlohmann/json.hpp>
#include <numeric>
#include <vector>

#include "decoder_test_support.hpp"
#include "real_model_support.hpp"
#include "test_support.hpp"

namespace {

nlohmann::json reference() {
  std::ifstream in(std::filesystem::path(MEZO_TEST_FIXTURES_DIR) / "decoder" /
                   "smollm2_reference.json");
  return nlohmann::json::parse(in);
}

// One model for the suite: loading it takes a few seconds.
mezo::CausalLM& smollm2(const std::filesystem::path& path) {
  static mezo::CausalLM model = mezo::CausalLM::load(path, {.num_threads = 2});
  return model;
}

std::vector<float> next_token_logits(mezo::CausalLM& model, const std::vector<std::int32_t>& ids,
                                     std::int64_t position) {
  const std::vector<std::vector<std::int32_t>> rows = {ids};
  const auto batch = mezo::TokenBatch::pad(rows, 0);
  const mezo::TokenQuery query{0, position};
  std::vector<float> out(static_cast<std::size_t>(model.vocab_size()));
  model.logits(batch, {&query, 1}, {}, out);
  return out;
}

double log_sum_exp(const std::vector<float>& row) {
  double max = -INFINITY, sum = 0;
  for (const float x : row) max = std::max(max, double{x});
  for (const float x : row) sum += std::exp(x - max);
  return max + std::log(sum);
}

TEST(SmolLM2, ParisIsTheTopTokenWithTheReferenceLogProbabilities) {
  REQUIRE_SMOLLM2_GGUF(path);
  const auto ref = reference().at("capital");
  const auto tokenizer = mezo::load_tokenizer(path);
  const auto ids = tokenizer->encode(ref.at("text").get<std::string>());
  ASSERT_EQ(ids, ref.at("ids").get<std::vector<std::int32_t>>());
  const auto logits = next_token_logits(smollm2(path), ids, std::int64_t(ids.size()) - 1);
  const double lse = log_sum_exp(logits);
  const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
  EXPECT_EQ(best, 7042);
  const std::int32_t one[] = {7042};
  EXPECT_EQ(tokenizer->decode(one), " Paris");
  for (const auto& top : ref.at("top5")) {
    const std::int32_t id = top.at("id");
    EXPECT_NEAR(logits[id] - lse, top.at("logprob").get<double>(), 1e-3) << "id " << id;
  }
}

TEST(SmolLM2, ParagraphNllMatchesTheReference) {
  REQUIRE_SMOLLM2_GGUF(path);
  const auto ref = reference().at("paragraph");
  const auto tokenizer = mezo::load_tokenizer(path);
  const auto ids = tokenizer->encode(ref.at("text").get<std::string>());
  ASSERT_EQ(ids, ref.at("ids").get<std::vector<std::int32_t>>());
  mezo::CausalLM& model = smollm2(path);
  const std::vector<std::vector<std::int32_t>> rows = {ids};
  const auto batch = mezo::TokenBatch::pad(rows, 0);
  std::vector<mezo::TokenQuery> queries;
  for (std::size_t t = 0; t + 1 < ids.size(); ++t) queries.push_back({0, std::int64_t(t)});
  const auto V = static_cast<std::size_t>(model.vocab_size());
  std::vector<float> logits(queries.size() * V);
  model.logits(batch, queries, {}, logits);
  double sum = 0;
  for (std::size_t t = 0; t < queries.size(); ++t) {
    const std::vector<float> row(logits.begin() + t * V, logits.begin() + (t + 1) * V);
    sum += log_sum_exp(row) - row[ids[t + 1]];
  }
  const double nll = sum / double(queries.size());
  EXPECT_EQ(queries.size(), ref.at("n_predicted").get<std::size_t>());
  EXPECT_NEAR(nll, ref.at("nll").get<double>(), 1e-3);
  std::printf("paragraph: %zu tokens predicted, NLL %.6f (reference %.6f), perplexity %.3f\n",
              queries.size(), nll, ref.at("nll").get<double>(), std::exp(nll));
}

TEST(SmolLM2, Sst2LabelWordLogitsMatchTheReference) {
  REQUIRE_SMOLLM2_GGUF(path);
  const auto ref = reference().at("sst2");
  const auto ids = ref.at("ids").get<std::vector<std::int32_t>>();
  const auto logits = next_token_logits(smollm2(path), ids, std::int64_t(ids.size()) - 1);
  for (const auto& [word, value] : ref.at("label_logits").items()) {
    const std::int32_t id = ref.at("label_ids").at(word);
    EXPECT_NEAR(logits[id], value.get<double>(), 1e-3) << word;
  }
}

// Q4_1 → F32 GGUF → load: the same fp32 masters bit for bit, and the
// tokenizer carried over gives the same ids.
TEST(SmolLM2, F32GgufExportLoadsBackBitIdenticalWithItsTokenizer) {
  REQUIRE_SMOLLM2_GGUF(path);
  mezo_test::TempDir dir;
  mezo::CausalLM& model = smollm2(path);
  model.save_gguf(dir / "smollm2-f32.gguf");
  const auto loaded = mezo::CausalLM::load(dir / "smollm2-f32.gguf", {.num_threads = 2});
  mezo_test::expect_same_params(model, loaded);
  if (HasFatalFailure()) return;
  const auto original = mezo::load_tokenizer(path);
  const auto exported = mezo::load_tokenizer(dir / "smollm2-f32.gguf");
  const std::string text = "Hello world! 123 Café déjà vu. <|im_start|>user";
  EXPECT_EQ(exported->encode(text), original->encode(text));
  EXPECT_EQ(exported->special_tokens().end, original->special_tokens().end);
}

// bf16 compute (mezo::ComputePrecision) where it matters: MeZO's projected
// gradient (ℓ+ − ℓ−)/2ε on the real model, the SST-2 prompt and a fixed
// batch of 16 reviews, for 8 directions z. bf16 adds noise to it: the
// rounding of the activations and, about as much, of the perturbed weights
// (ε = 1e-3 is a few bf16 steps of a typical weight, so round(w ± εz) carries
// the perturbation only approximately; measured by rounding each alone).
// Measured on 2026-12-07: bf16 − fp32 up to 0.23 of the fp32 gradients
// spread (RMS), correlation 0.99. Bounds: 0.4 and 0.9.
TEST(SmolLM2, Bf16ProjectedGradientsTrackFp32) {
  REQUIRE_SMOLLM2_GGUF(path);
  SKIP_UNLESS_COMPUTE_AVAILABLE(mezo::ComputePrecision::bf16);
  const auto tokenizer = mezo::load_tokenizer(path);
  const std::vector<std::string> reviews = {
      "a gorgeous, witty, seductive movie.",
      "the plot is nothing but boilerplate cliches from start to finish.",
      "an utterly charming and hilarious film that reminded me why i love movies.",
      "it's a bad sign when you're rooting for the film to end.",
      "the performances are uniformly excellent.",
      "a dull, simple-minded and stereotypical tale of drugs, death and mind-numbing indifference.",
      "one of the greatest family-oriented fantasy-adventure movies ever.",
      "the jokes are flat, and the action looks fake.",
      "a moving and important film.",
      "too long, too repetitive, and takes way too many years to resolve.",
      "beautifully observed, miraculously unsentimental comedy-drama.",
      "an ugly, pointless, stupid movie.",
      "the film is powerful, accessible and funny.",
      "it never finds a tone and never gets going.",
      "a warm, funny, engaging film.",
      "nothing happens, and it happens to flat characters.",
  };
  std::vector<std::vector<std::int32_t>> rows;
  for (const std::string& review : reviews) rows.push_back(tokenizer->encode(review + " It was"));
  const auto batch = mezo::TokenBatch::pad(rows, 0);
  std::vector<mezo::TokenQuery> last;
  std::vector<std::int32_t> labels;
  for (std::int64_t r = 0; r < batch.rows; ++r) {
    last.push_back({r, batch.lengths[r] - 1});
    labels.push_back(
        static_cast<std::int32_t>((r + 1) % 2));  // the list alternates great, terrible
  }
  const std::vector<std::int32_t> label_ids = {tokenizer->encode(" terrible").at(0),
                                               tokenizer->encode(" great").at(0)};
  constexpr int kDirections = 8;
  std::vector<std::vector<float>> grads;
  for (const auto compute : {mezo::ComputePrecision::fp32, mezo::ComputePrecision::bf16}) {
    auto model = mezo::CausalLM::load(path, {.num_threads = 2, .compute = compute});
    std::vector<float> logits(last.size() * 2);
    const mezo::CrossEntropy cross_entropy;
    const auto loss = [&] {
      model.logits(batch, last, label_ids, logits);
      return cross_entropy({logits.data(), batch.rows, 2}, labels);
    };
    mezo::ZoSgd probe({.lr = 0.0f, .eps = 1e-3f});  // lr 0: the weights stay put
    grads.emplace_back();
    for (int d = 0; d < kDirections; ++d) {
      const mezo::StepResult r = mezo::step(model.params(), probe, loss, 100 + d);
      ASSERT_EQ(r.status, mezo::StepStatus::ok) << r.message;
      grads.back().push_back(r.projected_grad);
    }
  }
  double spread = 0, dot = 0, norm16 = 0;
  for (int d = 0; d < kDirections; ++d) {
    spread += double{grads[0][d]} * grads[0][d];
    dot += double{grads[0][d]} * grads[1][d], norm16 += double{grads[1][d]} * grads[1][d];
  }
  const double correlation = dot / std::sqrt(spread * norm16);  // about 0: both have mean ~0
  spread = std::sqrt(spread / kDirections);
  for (int d = 0; d < kDirections; ++d) {
    std::printf("direction %d: projected gradient fp32 %+.4f, bf16 %+.4f\n", d, grads[0][d],
                grads[1][d]);
    EXPECT_NEAR(grads[1][d], grads[0][d], 0.4 * spread) << "direction " << d;
  }
  std::printf("correlation %.4f, fp32 spread %.4f\n", correlation, spread);
  EXPECT_GT(correlation, 0.9);
}

nlohmann::json generation_reference() {
  std::ifstream in(std::filesystem::path(MEZO_TEST_FIXTURES_DIR) / "decoder" /
                   "generation_reference.json");
  return nlohmann::json::parse(in).at("smollm2");
}

TEST(SmolLM2, GreedyContinuationEqualsTransformers) {
  REQUIRE_SMOLLM2_GGUF(path);
  const auto ref = generation_reference().at("capital");
  const auto prompt = ref.at("prompt_ids").get<std::vector<std::int32_t>>();
  const auto want = ref.at("generated_ids").get<std::vector<std::int32_t>>();
  mezo::CausalLM& model = smollm2(path);
  const auto got =
      mezo::generate(model, prompt, {.max_new_tokens = static_cast<std::int64_t>(want.size())});
  EXPECT_EQ(got.ids, want);
  // The cached logits after the whole continuation against one full forward.
  std::vector<std::int32_t> all = prompt;
  all.insert(all.end(), want.begin(), want.end() - 1);
  mezo::KvCache cache;
  std::vector<float> cached(static_cast<std::size_t>(model.vocab_size()));
  model.decode(cache, std::span(all).first(prompt.size()), cached);
  for (std::size_t i = prompt.size(); i < all.size(); ++i) model.decode(cache, {&all[i], 1}, cached);
  const auto full = next_token_logits(model, all, static_cast<std::int64_t>(all.size()) - 1);
  double scale = 0, worst = 0;
  for (const float x : full) scale = std::max(scale, double{std::abs(x)});
  for (std::size_t j = 0; j < full.size(); ++j)
    worst = std::max(worst, std::abs(double{cached[j]} - full[j]) / scale);
  EXPECT_LT(worst, 1e-5);
}

TEST(SmolLM2, ChatAnswerEqualsTransformers) {
  REQUIRE_SMOLLM2_GGUF(path);
  const auto ref = generation_reference().at("chat");
  const auto tokenizer = mezo::load_tokenizer(path);
  // The template's text, special tokens included, gives Hugging Face's ids.
  const auto prompt = tokenizer->encode(ref.at("template_text").get<std::string>());
  ASSERT_EQ(prompt, ref.at("prompt_ids").get<std::vector<std::int32_t>>());
  const std::int32_t end_of_turn = tokenizer->token_to_id("<|im_end|>");
  const auto got = mezo::generate(smollm2(path), prompt,
                                  {.max_new_tokens = 60, .stop_ids = {end_of_turn}});
  EXPECT_EQ(got.ids, ref.at("generated_ids").get<std::vector<std::int32_t>>());
  EXPECT_EQ(got.stop, mezo::GenerationStop::stop_token);
  EXPECT_EQ(tokenizer->decode(got.ids), ref.at("answer_text").get<std::string>() + "<|im_end|>");
}

}  // namespace
