// The built-in tasks. Each render function writes what the MeZO reference
// code's template (large_models/templates.py, the class its tasks.py picks
// by default) writes for a row, with the candidates in the order its
// build_sample lists them and the label as the index of the right one. Both
// texts lose the spaces at their ends (its encode_prompt's .strip(' ')).
#include "tasks.hpp"

#include <fmt/format.h>

#include "mezo/error.hpp"

namespace sst2 {
namespace {

using nlohmann::json;

const json& member(const json& row, const char* key) {
  if (!row.is_object() || !row.contains(key))
    throw FieldError(fmt::format("missing field \"{}\"", key));
  return row.at(key);
}

std::string text_field(const json& row, const char* key) {
  const json& value = member(row, key);
  if (!value.is_string()) throw FieldError(fmt::format("field \"{}\" is not a string", key));
  return value.get<std::string>();
}

bool bool_field(const json& row, const char* key) {
  const json& value = member(row, key);
  if (!value.is_boolean()) throw FieldError(fmt::format("field \"{}\" is not true or false", key));
  return value.get<bool>();
}

std::int32_t int_field(const json& row, const char* key, std::int32_t count) {
  const json& value = member(row, key);
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
      value.get<std::int64_t>() >= count)
    throw FieldError(fmt::format("field \"{}\" is not an integer in [0, {})", key, count));
  return value.get<std::int32_t>();
}

// The index of `value` among `names` (a label given as a string).
std::int32_t named_label(const json& row, const char* key, const std::vector<const char*>& names) {
  const std::string value = text_field(row, key);
  for (std::size_t i = 0; i < names.size(); ++i)
    if (value == names[i]) return static_cast<std::int32_t>(i);
  throw FieldError(fmt::format("field \"{}\" is \"{}\", not one of the task's labels", key, value));
}

std::string strip_spaces(std::string text) {
  const auto begin = text.find_first_not_of(' ');
  if (begin == std::string::npos) return {};
  return text.substr(begin, text.find_last_not_of(' ') - begin + 1);
}

// prompt, then prompt + each candidate word (the classification templates
// append the verbalizer's word to the prompt).
Example classification(const std::string& prompt, const std::vector<std::string>& words,
                       std::int32_t label) {
  Example e{strip_spaces(prompt), label, {}};
  for (const std::string& word : words) e.verbalized.push_back(strip_spaces(prompt + word));
  return e;
}

// RTETemplate: labels entailment (0), not_entailment (1); verbalizer 0 Yes, 1 No.
void render_rte(const json& row, std::vector<Example>& out) {
  const std::string prompt = fmt::format("{}\nDoes this mean that \"{}\" is true? Yes or No?\n",
                                         text_field(row, "premise"), text_field(row, "hypothesis"));
  out.push_back(classification(prompt, {"Yes", "No"},
                               named_label(row, "label", {"entailment", "not_entailment"})));
}

// CBTemplate: labels entailment (0), contradiction (1), neutral (2); 0 Yes, 1 No, 2 Maybe.
void render_cb(const json& row, std::vector<Example>& out) {
  const std::string prompt =
      fmt::format("Suppose {} Can we infer that \"{}\"? Yes, No, or Maybe?\n",
                  text_field(row, "premise"), text_field(row, "hypothesis"));
  out.push_back(classification(prompt, {"Yes", "No", "Maybe"},
                               named_label(row, "label", {"entailment", "contradiction", "neutral"})));
}

// BoolQTemplateV3 (the version BoolQDataset picks by default): the question
// ending in "?" and starting with a capital, then a newline and the
// candidate; candidates Yes (label true), No.
void render_boolq(const json& row, std::vector<Example>& out) {
  std::string question = text_field(row, "question");
  if (!question.ends_with('?')) question += '?';
  if (!question.empty() && question[0] >= 'a' && question[0] <= 'z') question[0] -= 'a' - 'A';
  const std::string prompt = fmt::format("{} {}\n", text_field(row, "passage"), question);
  out.push_back(classification(prompt, {"Yes", "No"}, bool_field(row, "label") ? 0 : 1));
}

// WICTemplate: verbalizer 0 No, 1 Yes (label true: the same sense).
void render_wic(const json& row, std::vector<Example>& out) {
  const std::string prompt = fmt::format(
      "Does the word \"{}\" have the same meaning in these two sentences? Yes, No?\n{}\n{}\n",
      text_field(row, "word"), text_field(row, "sentence1"), text_field(row, "sentence2"));
  out.push_back(classification(prompt, {"No", "Yes"}, bool_field(row, "label") ? 1 : 0));
}

// WSCTemplate: the pronoun (span2) lower-cased; verbalizer 0 No, 1 Yes.
void render_wsc(const json& row, std::vector<Example>& out) {
  const json& target = member(row, "target");
  std::string pronoun = text_field(target, "span2_text");
  for (char& c : pronoun)
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
  const std::string prompt = fmt::format(
      "{}\nIn the previous sentence, does the pronoun \"{}\" refer to {}? Yes or No?\n",
      text_field(row, "text"), pronoun, text_field(target, "span1_text"));
  out.push_back(classification(prompt, {"No", "Yes"}, bool_field(row, "label") ? 1 : 0));
}

// MultiRCTemplate, one example per answer option; verbalizer 0 No, 1 Yes.
void render_multirc(const json& row, std::vector<Example>& out) {
  const json& passage = member(row, "passage");
  const std::string paragraph = text_field(passage, "text");
  const json& questions = member(passage, "questions");
  if (!questions.is_array()) throw FieldError("field \"questions\" is not an array");
  for (const json& q : questions) {
    const std::string question = text_field(q, "question");
    const json& answers = member(q, "answers");
    if (!answers.is_array()) throw FieldError("field \"answers\" is not an array");
    for (const json& a : answers) {
      const std::string prompt = fmt::format(
          "{}\nQuestion: {}\nI found this answer \"{}\". Is that correct? Yes or No?\n", paragraph,
          question, text_field(a, "text"));
      out.push_back(classification(prompt, {"No", "Yes"}, int_field(a, "label", 2)));
    }
  }
}

// CopaTemplate: the premise without its final period, then " so " (effect)
// or " because " (cause); each choice follows with its first word
// lower-cased unless it is "I". Candidates choice1, choice2; label 0 or 1.
void render_copa(const json& row, std::vector<Example>& out) {
  std::string premise = text_field(row, "premise");
  premise.erase(premise.find_last_not_of(" \t\n\r\f\v") + 1);
  if (premise.ends_with('.')) premise.pop_back();
  const std::string question = text_field(row, "question");
  if (question != "cause" && question != "effect")
    throw FieldError(fmt::format("field \"question\" is \"{}\", not cause or effect", question));
  const std::string prompt = premise + (question == "effect" ? " so " : " because ");
  Example e{strip_spaces(prompt), int_field(row, "label", 2), {}};
  for (const char* key : {"choice1", "choice2"}) {
    std::string choice = text_field(row, key);
    const std::size_t first_word_end = std::min(choice.find(' '), choice.size());
    if (choice.substr(0, first_word_end) != "I") {
      for (std::size_t i = 0; i < first_word_end; ++i)
        if (choice[i] >= 'A' && choice[i] <= 'Z') choice[i] += 'a' - 'A';
    }
    e.verbalized.push_back(strip_spaces(prompt + choice));
  }
  out.push_back(std::move(e));
}

}  // namespace

const std::vector<TaskSpec>& task_specs() {
  static const std::vector<TaskSpec> specs = {
      {"rte", "superglue/RTE", true, {"Yes", "No"}, render_rte},
      {"cb", "superglue/CB", true, {"Yes", "No", "Maybe"}, render_cb, 100},
      {"boolq", "superglue/BoolQ", false, {"Yes", "No"}, render_boolq},
      {"wsc", "superglue/WSC", true, {"No", "Yes"}, render_wsc, 100},
      {"wic", "superglue/WiC", false, {"No", "Yes"}, render_wic, 100},
      {"multirc", "superglue/MultiRC", true, {"No", "Yes"}, render_multirc},
      {"copa", "superglue/COPA", true, {"choice 1", "choice 2"}, render_copa, 100},
  };
  return specs;
}

std::string task_names() {
  std::string names = "sst2";
  for (const TaskSpec& spec : task_specs()) names += ", " + spec.name;
  return names;
}

const TaskSpec& find_task(std::string_view name) {
  for (const TaskSpec& spec : task_specs())
    if (spec.name == name) return spec;
  throw mezo::Error(mezo::ErrorCode::invalid_argument,
                    fmt::format("--task {}: unknown task; the built-in tasks are {}", name,
                                task_names()));
}

}  // namespace sst2
