#include "answer_generation.hpp"

#include <fmt/format.h>

#include "answer_metrics.hpp"
#include "cluster.hpp"
#include "mezo/error.hpp"
#include "mezo/model/generation.hpp"
#include "tasks.hpp"

namespace sst2 {

AnswerGenerator::AnswerGenerator(mezo::CausalLM& model, const mezo::Tokenizer& tokenizer)
    : model_(model), tokenizer_(tokenizer) {
  // The reference stops at tok.encode("\n")[-1] and at the end token.
  const auto newline = tokenizer.encode("\n");
  if (newline.empty()) {
    throw mezo::Error(mezo::ErrorCode::invalid_argument,
                      "the tokenizer writes \"\\n\" as no token: a generation task cannot stop");
  }
  stop_ids_.push_back(newline.back());
  if (tokenizer.special_tokens().end >= 0) stop_ids_.push_back(tokenizer.special_tokens().end);
}

std::string AnswerGenerator::answer(const EncodedExample& example) {
  mezo::GenerationOptions options;
  options.max_new_tokens = kMaxAnswerTokens;
  options.stop_ids = stop_ids_;
  mezo::Generation g = mezo::generate(model_, example.ids, options);
  // Like the reference's decode(skip_special_tokens=True): the stop token is
  // not part of the answer.
  if (g.stop == mezo::GenerationStop::stop_token) g.ids.pop_back();
  return stripped(tokenizer_.decode(g.ids));
}

Evaluation AnswerGenerator::evaluate(const std::vector<EncodedExample>& examples) {
  std::vector<double> sums(2, 0.0);  // exact match, F1
  const auto ranks = static_cast<std::size_t>(Cluster::size());
  for (std::size_t i = static_cast<std::size_t>(Cluster::rank()); i < examples.size(); i += ranks) {
    const std::string prediction = answer(examples[i]);
    sums[0] += exact_match(prediction, examples[i].gold_answers);
    sums[1] += answer_f1(prediction, examples[i].gold_answers);
  }
  Cluster::sum(sums, "answer metrics all-gather");
  Evaluation result;
  if (examples.empty()) return result;
  const auto n = static_cast<double>(examples.size());
  result.exact_match = sums[0] / n;
  result.f1 = sums[1] / n;
  result.accuracy = result.f1;
  result.generated = true;
  return result;
}

void AnswerGenerator::negative_f1(std::span<const EncodedExample* const> examples,
                                  std::span<double> out) {
  if (out.size() != examples.size())
    throw mezo::Error(mezo::ErrorCode::internal, "negative_f1: one output per example");
  for (std::size_t i = 0; i < examples.size(); ++i)
    out[i] = -answer_f1(answer(*examples[i]), examples[i]->gold_answers);
}

float AnswerNll::operator()(mezo::Logits logits, std::span<const std::int32_t> labels) const {
  std::vector<double> losses(static_cast<std::size_t>(logits.rows));
  example_losses(logits, labels, losses);
  return mezo::mean_loss(losses);
}

void AnswerNll::example_losses(mezo::Logits logits, std::span<const std::int32_t> labels,
                               std::span<double> out) const {
  if (logits.cols != 1 || labels.size() != static_cast<std::size_t>(logits.rows) ||
      out.size() != labels.size()) {
    throw mezo::Error(
        mezo::ErrorCode::invalid_argument,
        fmt::format("answer_nll: {} x {} scores, {} labels and {} outputs; it needs one score "
                    "(the answer's mean log-probability) per example",
                    logits.rows, logits.cols, labels.size(), out.size()));
  }
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = -static_cast<double>(logits.data[i]);
}

}  // namespace sst2
