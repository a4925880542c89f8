// In-context learning (examples/sst2/demonstrations.hpp): each evaluated
// example gets demonstrations of its own, drawn and written out as the MeZO
// reference code's ICL baseline does (tests/fixtures/in_context_prompts.json,
// made by tools/make_in_context_fixtures.py: its seeds and prompts for fixed
// rows of SST-2, RTE, COPA and SQuAD); SST-2 rendered as a --task's examples
// encodes and scores as the CausalPrompt path does; bad counts are errors.
#include "demonstrations.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "causal_prompt.hpp"
#include "decoder_scorers.hpp"
#include "evaluation.hpp"
#include "mezo/error.hpp"
#include "mezo/model/language_model.hpp"
#include "mezo/text/tokenizer.hpp"
#include "rendered_prompt.hpp"
#include "tasks.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;

nlohmann::json fixture() {
  std::ifstream in(fs::path(MEZO_TEST_FIXTURES_DIR) / "in_context_prompts.json");
  if (!in) throw std::runtime_error("missing tests/fixtures/in_context_prompts.json");
  return nlohmann::json::parse(in);
}

const sst2::PromptOptions kSst2Prompt{.template_text = "{sentence} It was",
                                      .label_words = {" terrible", " great"}};

// The fixture's rows of `task` as examples/sst2 renders them.
std::vector<sst2::Example> render(const std::string& task, const nlohmann::json& rows) {
  std::vector<sst2::Example> out;
  if (task == "sst2") {
    for (const auto& row : rows)
      out.push_back({.text = row.at("sentence"), .label = row.at("label").get<int>()});
    return sst2::rendered_sst2(out, kSst2Prompt);
  }
  const sst2::TaskSpec& spec = sst2::find_task(task);
  for (const auto& row : rows) spec.render(row, out);
  return out;
}

TEST(Demonstrations, SeedsAreNumpysRandintFromSeedZero) {
  const auto want = fixture().at("seeds").get<std::vector<std::uint32_t>>();
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(sst2::demonstration_seeds(want.size()), want);
  // A longer draw starts with the same seeds (one stream for test, then dev).
  const auto longer = sst2::demonstration_seeds(1000);
  EXPECT_TRUE(std::equal(want.begin(), want.end(), longer.begin()));
  for (const std::uint32_t s : longer) EXPECT_LT(s, 10000u);
}

TEST(Demonstrations, PromptsAreTheReferencesForEachKind) {
  const auto f = fixture();
  const int count = f.at("count");
  for (const auto& [task, c] : f.at("tasks").items()) {
    SCOPED_TRACE(task);
    const auto pool = render(task, c.at("pool"));
    const auto queries = render(task, c.at("queries"));
    const auto got =
        sst2::with_demonstrations(queries, pool, count, sst2::demonstration_seeds(queries.size()));
    const auto& want = c.at("examples");
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(got[i].text, want[i].at("prompt").get<std::string>());
      EXPECT_EQ(got[i].verbalized, want[i].at("verbalized").get<std::vector<std::string>>());
      // Labels and gold answers are the query's own.
      EXPECT_EQ(got[i].label, queries[i].label);
      EXPECT_EQ(got[i].gold_answers, queries[i].gold_answers);
    }
    // Each query's demonstrations are a draw of its own: not all alike.
    std::set<std::string> prefixes;
    for (std::size_t i = 0; i < got.size(); ++i)
      prefixes.insert(got[i].text.substr(0, got[i].text.size() - queries[i].text.size()));
    EXPECT_GT(prefixes.size(), 1u);
  }
}

TEST(Demonstrations, ADemonstrationShowsTheRightAnswer) {
  sst2::Example e{.text = "Q\n", .label = 1, .verbalized = {"Q\nNo", "Q\nYes "}};
  EXPECT_EQ(sst2::demonstration(e), "Q\nYes");
  e.label = 2;
  EXPECT_CONTAINS(
      mezo_test::error_of([&] { sst2::demonstration(e); }, mezo::ErrorCode::invalid_argument),
      "has no candidate 2 to show");
}

TEST(Demonstrations, TooFewTrainingExamplesIsAnError) {
  const std::vector<sst2::Example> pool(3, {.text = "a", .label = 0, .verbalized = {"a b"}});
  EXPECT_CONTAINS(
      mezo_test::error_of(
          [&] { sst2::with_demonstrations(pool, pool, 4, sst2::demonstration_seeds(3)); },
          mezo::ErrorCode::invalid_argument),
      "4 demonstrations asked for, from 3 training examples");
}

TEST(Demonstrations, InContextDrawsTestThenDevFromTrain) {
  sst2::RunData data;
  for (int i = 0; i < 20; ++i) {
    const std::string s = "s" + std::to_string(i);
    (i < 10 ? data.train : i < 15 ? data.dev : data.test).push_back({.text = s, .label = i % 2});
  }
  data.description = "d";
  const auto seeds = sst2::demonstration_seeds(10);
  const sst2::RunData got = sst2::in_context(data, 2, "sst2", kSst2Prompt);
  const auto train = sst2::rendered_sst2(data.train, kSst2Prompt);
  EXPECT_EQ(got.test[0].text,
            sst2::with_demonstrations(sst2::rendered_sst2({data.test[0]}, kSst2Prompt), train, 2,
                                      {seeds[0]})[0]
                .text);
  EXPECT_EQ(got.dev[0].text,
            sst2::with_demonstrations(sst2::rendered_sst2({data.dev[0]}, kSst2Prompt), train, 2,
                                      {seeds[5]})[0]
                .text);
  EXPECT_EQ(got.train.size(), 10u);
  EXPECT_EQ(got.train[3].text, "s3 It was");  // rendered, without demonstrations
  EXPECT_EQ(got.description, "d; in context: 2 demonstrations per example");
}

// SST-2 in context goes through RenderedPrompt and the per-example scorer
// (task.cpp); without demonstrations that path must be the CausalPrompt
// path: the same ids and the same margins, on the tiny decoder's tokenizer.
TEST(Demonstrations, RenderedSst2EncodesAndScoresAsTheCausalPrompt) {
  const fs::path model_file =
      fs::path(MEZO_TEST_FIXTURES_DIR) / "decoder/tiny-llama/model-f32.gguf";
  const auto tokenizer = mezo::load_tokenizer(model_file);
  const auto model = mezo::load_model(model_file, {});
  const nlohmann::json sst2_rows =
      fixture().at("tasks").at("sst2");  // a copy: fixture() is a temporary
  std::vector<sst2::Example> sentences;
  sst2::PromptOptions options = kSst2Prompt;
  options.max_length = 128;
  // Sentences that fit whole: a longer one is cut from its end by CausalPrompt
  // and from its start by RenderedPrompt (which keeps the last demonstrations).
  for (const char* part : {"queries", "pool"}) {
    for (const auto& row : sst2_rows.at(part)) {
      const sst2::Example e{.text = row.at("sentence"), .label = row.at("label").get<int>()};
      const auto rendered = sst2::rendered_sst2({e}, options).front().verbalized.back();
      if (tokenizer->encode(rendered).size() + 1 <= static_cast<std::size_t>(options.max_length))
        sentences.push_back(e);
    }
  }
  ASSERT_GE(sentences.size(), 6u);
  const sst2::CausalPrompt causal(*tokenizer, options);
  const sst2::RenderedPrompt rendered(*tokenizer, "t", options.label_words, options.max_length);
  const auto by_causal = sst2::encode_all(sentences, causal, 0);
  const auto by_rendered = sst2::encode_all(sst2::rendered_sst2(sentences, options), rendered, 0);
  ASSERT_EQ(by_causal.size(), by_rendered.size());
  for (std::size_t i = 0; i < by_causal.size(); ++i) {
    EXPECT_EQ(by_rendered[i].ids, by_causal[i].ids) << sentences[i].text;
    EXPECT_EQ(by_rendered[i].query_position, by_causal[i].query_position);
    EXPECT_EQ(by_rendered[i].candidates, causal.candidates());
  }
  const auto lm = sst2::make_lm_scorer(*model, causal.candidates(), 0);
  const auto per_example = sst2::make_per_example_scorer(*model, 2, 0);
  const sst2::Evaluation a = sst2::evaluate(*lm, by_causal);
  const sst2::Evaluation b = sst2::evaluate(*per_example, by_rendered);
  EXPECT_EQ(a.accuracy, b.accuracy);
  EXPECT_EQ(a.answered, b.answered);
  ASSERT_EQ(a.margins.size(), b.margins.size());
  for (std::size_t i = 0; i < a.margins.size(); ++i) EXPECT_NEAR(a.margins[i], b.margins[i], 1e-4);
}

}  // namespace
