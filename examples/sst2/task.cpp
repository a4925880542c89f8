#include "task.hpp"

#include <fmt/format.h>

#include "causal_prompt.hpp"
#include "decoder_scorers.hpp"
#include "encoder_scorers.hpp"
#include "masked_prompt.hpp"
#include "mezo/error.hpp"
#include "mezo/model/causal_lm.hpp"
#include "mezo/model/masked_lm.hpp"
#include "rendered_prompt.hpp"
#include "task_data.hpp"
#include "tasks.hpp"

namespace sst2 {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw mezo::Error(mezo::ErrorCode::invalid_argument, message);
}

Task encoder_task(mezo::MaskedLM& model, const mezo::Tokenizer& tokenizer, const TrainOptions& o) {
  if (o.head == "lm")
    fail("--head lm is a causal LM's next-token head; this masked LM has mlm or cosine");
  if (o.head == "mlm" && !model.has_mlm_head()) {
    fail(fmt::format("--head mlm: {} has no masked-LM head; use --head cosine",
                     o.model_dir.string()));
  }
  const bool cosine = o.head == "cosine" || (o.head == "auto" && !model.has_mlm_head());
  auto prompt = std::make_unique<MaskedPrompt>(
      tokenizer, model.config().model_type, o.prompt,
      cosine ? MaskedPrompt::Input::sentence_only : MaskedPrompt::Input::prompt);
  auto scorer = cosine ? make_cosine_scorer(model, *prompt, o.cosine_scale)
                       : make_mlm_scorer(model, *prompt,
                                         static_cast<std::int32_t>(model.config().pad_token_id));
  return {std::move(prompt), std::move(scorer), nullptr};
}

Task decoder_task(mezo::LanguageModel& model, const mezo::Tokenizer& tokenizer,
                  const TrainOptions& o) {
  if (o.head == "mlm" || o.head == "cosine") {
    fail(
        fmt::format("--head {} is for masked LMs; a causal LM is scored by its LM head (--head "
                    "lm, the default)",
                    o.head));
  }
  // Any id in the vocabulary pads: causal attention never reaches padding.
  const std::int32_t pad = std::max(tokenizer.special_tokens().pad, 0);
  if (o.task != "sst2") {
    const TaskSpec spec = task_spec(o);
    auto prompt = std::make_unique<RenderedPrompt>(tokenizer, spec.template_description,
                                                   spec.answers, o.prompt.max_length,
                                                   spec.generation ? kMaxAnswerTokens : 0);
    auto scorer = make_per_example_scorer(model, spec.answers.size(), pad);
    std::unique_ptr<AnswerGenerator> generator;
    if (spec.generation) {
      auto* causal = dynamic_cast<mezo::CausalLM*>(&model);
      if (causal == nullptr)
        throw mezo::Error(mezo::ErrorCode::internal, "a causal LM that is not a mezo::CausalLM");
      generator = std::make_unique<AnswerGenerator>(*causal, tokenizer);
    }
    return {std::move(prompt), std::move(scorer), std::move(generator)};
  }
  auto prompt = std::make_unique<CausalPrompt>(tokenizer, o.prompt);
  if (o.demos > 0) {
    // In context, SST-2's examples are rendered prompts with demonstrations
    // before them (demonstrations.hpp), encoded and scored as a --task's.
    auto rendered = std::make_unique<RenderedPrompt>(tokenizer, prompt->template_text(),
                                                     prompt->label_words(), o.prompt.max_length);
    auto scorer = make_per_example_scorer(model, prompt->label_words().size(), pad);
    return {std::move(rendered), std::move(scorer), nullptr};
  }
  auto scorer = make_lm_scorer(model, prompt->candidates(), pad);
  return {std::move(prompt), std::move(scorer), nullptr};
}

}  // namespace

Evaluation Task::evaluate(const std::vector<EncodedExample>& examples) const {
  return generator ? generator->evaluate(examples) : sst2::evaluate(*scorer, examples);
}

Task make_task(mezo::LanguageModel& model, const mezo::Tokenizer& tokenizer,
               const TrainOptions& o) {
  if (o.prompt.max_length > model.max_sequence_length()) {
    fail(fmt::format("--max-length {} is longer than {} allows ({} tokens)", o.prompt.max_length,
                     o.model_dir.string(), model.max_sequence_length()));
  }
  if (model.family() == mezo::ModelFamily::causal_lm) return decoder_task(model, tokenizer, o);
  if (o.task != "sst2") fail(fmt::format("--task {} needs a causal LM", o.task));
  // Encoders without an MLM head are scored through mean pooling, which only
  // MaskedLM has: the one place the example needs more than LanguageModel.
  auto* masked = dynamic_cast<mezo::MaskedLM*>(&model);
  if (masked == nullptr)
    throw mezo::Error(mezo::ErrorCode::internal, "a masked LM that is not a mezo::MaskedLM");
  return encoder_task(*masked, tokenizer, o);
}

}  // namespace sst2
