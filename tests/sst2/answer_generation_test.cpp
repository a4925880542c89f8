// Generation tasks (examples/sst2/answer_generation.hpp) on the tiny decoder
// fixture: an answer is the greedy continuation up to the first newline or end
// token, without it, decoded and stripped; evaluate() scores exactly those
// answers against each example's golds; AnswerNll is the mean of −score.
#include "answer_generation.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "answer_metrics.hpp"
#include "mezo/error.hpp"
#include "mezo/model/generation.hpp"
#include "mezo/model/language_model.hpp"
#include "mezo/text/tokenizer.hpp"
#include "tasks.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kModel = fs::path(MEZO_TEST_FIXTURES_DIR) / "decoder/tiny-llama/model-f32.gguf";

class AnswerGeneration : public testing::Test {
 protected:
  // Also called again by a test for a fresh model.
  void SetUp() override {
    examples_.clear();
    tokenizer_ = mezo::load_tokenizer(kModel);
    model_ = mezo::load_model(kModel, {});
    causal_ = dynamic_cast<mezo::CausalLM*>(model_.get());
    ASSERT_NE(causal_, nullptr);
    for (const char* text : {"Question: who?\nAnswer:", "The cat sat on the", "1 2 3",
                             "Passage: a b c\nQuestion: d\nAnswer:"}) {
      sst2::EncodedExample e;
      const auto& special = tokenizer_->special_tokens();
      if (special.add_begin && special.begin >= 0) e.ids.push_back(special.begin);
      const auto ids = tokenizer_->encode(text);
      e.ids.insert(e.ids.end(), ids.begin(), ids.end());
      examples_.push_back(std::move(e));
    }
  }

  std::unique_ptr<mezo::Tokenizer> tokenizer_;
  std::unique_ptr<mezo::LanguageModel> model_;
  mezo::CausalLM* causal_ = nullptr;
  std::vector<sst2::EncodedExample> examples_;
};

// The fixture's random weights never choose the newline token; its output
// row scaled up makes them choose it now and then.
void favour_token(mezo::CausalLM& model, std::int32_t id, float scale) {
  for (const mezo::ParamView& view : model.params().views()) {
    if (view.name != "lm_head.weight" && view.name != "model.embed_tokens.weight") continue;
    const std::uint64_t hidden = view.size / static_cast<std::uint64_t>(model.vocab_size());
    float* row = view.f32() + static_cast<std::uint64_t>(id) * hidden;
    for (std::uint64_t j = 0; j < hidden; ++j) row[j] *= scale;
  }
}

TEST_F(AnswerGeneration, AnswersAreTheGreedyContinuationToTheFirstNewline) {
  const std::int32_t newline = tokenizer_->encode("\n").back();
  int cut_mid_answer = 0, ran_to_the_limit = 0;
  // Scaled ×4, some continuations never reach a newline; ×8, one reaches it
  // after two tokens (the others at once).
  for (const float scale : {4.0f, 8.0f}) {
    SCOPED_TRACE(scale);
    SetUp();
    favour_token(*causal_, newline, scale);
    sst2::AnswerGenerator generator(*causal_, *tokenizer_);
    for (const auto& e : examples_) {
      mezo::GenerationOptions options;
      options.max_new_tokens = sst2::kMaxAnswerTokens;
      const mezo::Generation free_run = mezo::generate(*causal_, e.ids, options);  // no stops
      // The answer is that run cut before its first newline or end token.
      std::vector<std::int32_t> kept;
      bool stop = false;
      for (const std::int32_t id : free_run.ids) {
        if (id == newline || id == tokenizer_->special_tokens().end) {
          stop = true;
          break;
        }
        kept.push_back(id);
      }
      cut_mid_answer += stop && !kept.empty();
      ran_to_the_limit += !stop;
      EXPECT_EQ(generator.answer(e), sst2::stripped(tokenizer_->decode(kept)));
    }
  }
  EXPECT_GT(cut_mid_answer, 0) << "no answer was cut at a newline after some tokens";
  EXPECT_GT(ran_to_the_limit, 0) << "every answer stopped before the token limit";
}

TEST_F(AnswerGeneration, EvaluationScoresTheGeneratedAnswers) {
  sst2::AnswerGenerator generator(*causal_, *tokenizer_);
  double f1 = 0.0;
  for (std::size_t i = 0; i < examples_.size(); ++i) {
    const std::string answer = generator.answer(examples_[i]);
    // Half the examples have their own answer among the golds, half not.
    examples_[i].gold_answers = {i % 2 == 0 ? answer : "zz-never-generated", "other"};
    f1 += sst2::answer_f1(answer, examples_[i].gold_answers);
  }
  const sst2::Evaluation e = generator.evaluate(examples_);
  EXPECT_TRUE(e.generated);
  EXPECT_DOUBLE_EQ(e.exact_match, 0.5);
  EXPECT_DOUBLE_EQ(e.f1, f1 / static_cast<double>(examples_.size()));
  EXPECT_EQ(e.accuracy, e.f1);  // what a run selects by
}

// --objective f1: each example's loss is −F1 of what the model answers now,
// so a change of weights that changes the answers changes the loss.
TEST_F(AnswerGeneration, NegativeF1IsMinusTheF1OfTheCurrentAnswers) {
  sst2::AnswerGenerator generator(*causal_, *tokenizer_);
  std::vector<const sst2::EncodedExample*> batch;
  for (std::size_t i = 0; i < examples_.size(); ++i) {
    const std::string answer = generator.answer(examples_[i]);
    ASSERT_FALSE(answer.empty());
    // Even examples: their own answer is a gold (F1 1); odd: half its words
    // and a word it lacks (0 < F1 < 1), or no shared word (F1 0).
    const auto space = answer.find(' ');
    examples_[i].gold_answers = {i % 2 == 0                   ? answer
                                 : space != std::string::npos ? answer.substr(0, space) + " zz"
                                                              : "zz-never-generated"};
    batch.push_back(&examples_[i]);
  }
  std::vector<double> losses(batch.size());
  generator.negative_f1(batch, losses);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(losses[i],
              -sst2::answer_f1(generator.answer(examples_[i]), examples_[i].gold_answers));
    if (i % 2 == 0) EXPECT_EQ(losses[i], -1.0);
  }
  // Weights that make the model answer at once with a newline: empty
  // answers, F1 0 for every example.
  favour_token(*causal_, tokenizer_->encode("\n").back(), 8.0f);
  std::vector<double> after(batch.size());
  generator.negative_f1(batch, after);
  EXPECT_LT(mezo::mean_loss(losses), 0.0f);
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (generator.answer(examples_[i]).empty()) EXPECT_EQ(after[i], -0.0);
  EXPECT_NE(after, losses);
}

TEST(AnswerNll, IsTheMeanNegativeScore) {
  const sst2::AnswerNll nll;
  const std::vector<float> scores = {-0.5f, -2.0f, -1.25f};
  const std::vector<std::int32_t> labels(3, 0);
  std::vector<double> per_example(3);
  nll.example_losses({scores.data(), 3, 1}, labels, per_example);
  EXPECT_EQ(per_example, (std::vector<double>{0.5, 2.0, 1.25}));
  EXPECT_FLOAT_EQ(nll({scores.data(), 3, 1}, labels), 1.25f);
  const std::vector<float> two_columns(6, 0.0f);
  EXPECT_CONTAINS(mezo_test::error_of(
                      [&] {
                        nll({two_columns.data(), 3, 2}, labels);
                      },
                      mezo::ErrorCode::invalid_argument),
                  "answer_nll: 3 x 2 scores");
}

}  // namespace
