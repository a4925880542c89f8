// The built-in tasks. Each render function writes what the MeZO reference
// code's template (large_models/templates.py, the class its tasks.py picks
// by default) writes for a row, with the candidates in the order its
// build_sample lists them and the label as the index of the right one. Both
// texts lose the spaces at their ends (its encode_prompt's .strip(' ')).
#include "tasks.hpp"

#include <fmt/format.h>

#include <fstream>

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
  Example e{strip_spaces(prompt), label, {}, {}};
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
  out.push_back(
      classification(prompt, {"Yes", "No", "Maybe"},
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
  const std::string prompt =
      fmt::format("{}\nIn the previous sentence, does the pronoun \"{}\" refer to {}? Yes or No?\n",
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
      const std::string prompt =
          fmt::format("{}\nQuestion: {}\nI found this answer \"{}\". Is that correct? Yes or No?\n",
                      paragraph, question, text_field(a, "text"));
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
  Example e{strip_spaces(prompt), int_field(row, "label", 2), {}, {}};
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

// A generation example: the prompt, the prompt followed by " answer\n" with
// the first gold answer (SQuADv2Template and DROPTemplate's verbalize: the
// tokens training scores), and every gold answer.
Example generation(const std::string& prompt, std::vector<std::string> golds) {
  if (golds.empty()) throw FieldError("no gold answer");
  Example e{strip_spaces(prompt), 0, {strip_spaces(prompt + " " + golds.front() + "\n")}, {}};
  e.gold_answers = std::move(golds);
  return e;
}

std::vector<std::string> text_list(const json& row, const char* key) {
  const json& list = member(row, key);
  if (!list.is_array() || list.empty())
    throw FieldError(fmt::format("field \"{}\" is not a non-empty array", key));
  std::vector<std::string> out;
  for (const json& item : list) {
    if (!item.is_string()) throw FieldError(fmt::format("an item of \"{}\" is not text", key));
    out.push_back(item.get<std::string>());
  }
  return out;
}

// SQuAD v1.1's document as rows, in file order: one per question, with its
// article's title and paragraph's context, and its answers' texts.
std::vector<json> squad_rows(const json& document) {
  std::vector<json> rows;
  const json& articles = member(document, "data");
  if (!articles.is_array()) throw FieldError("field \"data\" is not an array");
  for (std::size_t a = 0; a < articles.size(); ++a) {
    const auto where = [&](const std::string& what) {
      return FieldError(fmt::format("article {}: {}", a, what));
    };
    try {
      const std::string title = text_field(articles[a], "title");
      const json& paragraphs = member(articles[a], "paragraphs");
      if (!paragraphs.is_array()) throw FieldError("field \"paragraphs\" is not an array");
      for (const json& paragraph : paragraphs) {
        const std::string context = text_field(paragraph, "context");
        const json& questions = member(paragraph, "qas");
        if (!questions.is_array()) throw FieldError("field \"qas\" is not an array");
        for (const json& q : questions) {
          const json& answers = member(q, "answers");
          if (!answers.is_array()) throw FieldError("field \"answers\" is not an array");
          json texts = json::array();
          for (const json& answer : answers) texts.push_back(text_field(answer, "text"));
          rows.push_back({{"title", title},
                          {"context", context},
                          {"question", text_field(q, "question")},
                          {"answers", std::move(texts)}});
        }
      }
    } catch (const FieldError& e) {
      throw where(e.what());
    }
  }
  return rows;
}

// SQuADv2Template (the class the reference's SQuAD task uses for v1.1): the
// question stripped, the title and context as they are.
void render_squad(const json& row, std::vector<Example>& out) {
  const std::string prompt =
      fmt::format("Title: {}\nContext: {}\nQuestion: {}\nAnswer:", text_field(row, "title"),
                  text_field(row, "context"), stripped(text_field(row, "question")));
  out.push_back(generation(prompt, text_list(row, "answers")));
}

// DROPTemplate. The file's answers are lists of spans (one for a number or a
// date, several for a multi-span answer); every span of every accepted answer
// is a gold alternative, as the reference does with its answer's spans, and
// training scores the first span of the first answer.
void render_drop(const json& row, std::vector<Example>& out) {
  const std::string prompt =
      fmt::format("Passage: {}\nQuestion: {}\nAnswer:", text_field(row, "passage"),
                  text_field(row, "question"));
  const json& answers = member(row, "answers");
  if (!answers.is_array() || answers.empty())
    throw FieldError("field \"answers\" is not a non-empty array");
  std::vector<std::string> golds;
  for (const json& spans : answers) {
    if (!spans.is_array() || spans.empty())
      throw FieldError("an answer in \"answers\" is not a non-empty list of spans");
    for (const json& span : spans) {
      if (!span.is_string()) throw FieldError("a span in \"answers\" is not text");
      golds.push_back(span.get<std::string>());
    }
  }
  out.push_back(generation(prompt, std::move(golds)));
}

// "{field}" in `text` replaced by the row's field (a string as it is, a
// number or boolean as JSON writes it).
std::string fill_template(const std::string& text, const json& row) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t open = text.find('{', i);
    if (open == std::string::npos) {
      out += text.substr(i);
      break;
    }
    const std::size_t close = text.find('}', open);
    out += text.substr(i, open - i);
    const std::string name = text.substr(open + 1, close - open - 1);
    const json& value = member(row, name.c_str());
    if (value.is_string()) {
      out += value.get<std::string>();
    } else if (value.is_number() || value.is_boolean()) {
      out += value.dump();
    } else {
      throw FieldError(fmt::format("field \"{}\" (the template's {{{}}}) is not text", name, name));
    }
    i = close + 1;
  }
  return out;
}

// A label value as the task file's label_words keys spell it.
std::string label_key(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer() || value.is_boolean()) return value.dump();
  throw FieldError("the label is not a string, an integer or true/false");
}

}  // namespace

const std::vector<TaskSpec>& task_specs() {
  // name, folder, has_train, answers, render, num_dev
  const auto builtin = [](const char* name, const char* folder, bool has_train,
                          std::vector<std::string> answers,
                          void (*render)(const json&, std::vector<Example>&), int num_dev) {
    TaskSpec spec;
    spec.name = name, spec.folder = folder, spec.has_train = has_train;
    spec.template_description = fmt::format("the MeZO paper's {} template", name);
    spec.answers = std::move(answers), spec.render = render, spec.num_dev = num_dev;
    return spec;
  };
  // No train split here for either (data/README.md): train and dev come from
  // the test file. 100 dev examples, not 500: each is a greedy generation.
  const auto generation_task = [&](const char* name, const char* folder, const char* file,
                                   void (*render)(const json&, std::vector<Example>&),
                                   std::vector<json> (*rows)(const json&)) {
    TaskSpec spec = builtin(name, folder, false, {"the answer"}, render, 100);
    spec.test_name = file;
    if (rows != nullptr) spec.document_rows = rows;
    spec.generation = true;
    return spec;
  };
  static const std::vector<TaskSpec> specs = {
      builtin("rte", "superglue/RTE", true, {"Yes", "No"}, render_rte, 500),
      builtin("cb", "superglue/CB", true, {"Yes", "No", "Maybe"}, render_cb, 100),
      builtin("boolq", "superglue/BoolQ", false, {"Yes", "No"}, render_boolq, 500),
      builtin("wsc", "superglue/WSC", true, {"No", "Yes"}, render_wsc, 100),
      builtin("wic", "superglue/WiC", false, {"No", "Yes"}, render_wic, 100),
      builtin("multirc", "superglue/MultiRC", true, {"No", "Yes"}, render_multirc, 500),
      builtin("copa", "superglue/COPA", true, {"choice 1", "choice 2"}, render_copa, 100),
      generation_task("squad", "squad", "dev-v1.1.json", render_squad, squad_rows),
      generation_task("drop", "drop", "val-1000.jsonl", render_drop, nullptr),
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
  throw mezo::Error(
      mezo::ErrorCode::invalid_argument,
      fmt::format("--task {}: unknown task; the built-in tasks are {}", name, task_names()));
}

}  // namespace sst2

namespace sst2 {

TaskSpec load_task_file(const std::filesystem::path& path) {
  const auto fail = [&](const std::string& message) -> void {
    throw mezo::Error(mezo::ErrorCode::invalid_argument,
                      fmt::format("--task-file {}: {}", path.string(), message));
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw mezo::Error(mezo::ErrorCode::io,
                      fmt::format("--task-file {}: cannot read it", path.string()));
  }
  // ordered_json: the label words keep the file's order (the candidates' order).
  const auto file = nlohmann::ordered_json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (file.is_discarded() || !file.is_object()) fail("not a JSON object");
  const auto text = [&](const char* key, bool required) -> std::string {
    if (!file.contains(key)) {
      if (required) fail(fmt::format("missing \"{}\"", key));
      return {};
    }
    if (!file.at(key).is_string() || file.at(key).get<std::string>().empty())
      fail(fmt::format("\"{}\" must be a non-empty string", key));
    return file.at(key).get<std::string>();
  };
  TaskSpec spec;
  spec.name = text("name", true);
  if (spec.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
    fail(fmt::format("\"name\" '{}' may hold only a-z, 0-9, _ and -", spec.name));
  if (spec.name == "sst2" || std::any_of(task_specs().begin(), task_specs().end(),
                                         [&](const TaskSpec& t) { return t.name == spec.name; }))
    fail(fmt::format("\"name\" '{}' is a built-in task's; choose another", spec.name));
  const std::filesystem::path folder = path.parent_path();
  spec.train_file = folder / text("train", true);
  if (const std::string test = text("test", false); !test.empty()) spec.test_file = folder / test;
  const std::string prompt = text("template", true);
  spec.template_description = prompt;
  for (std::size_t open = prompt.find('{'); open != std::string::npos;
       open = prompt.find('{', open + 1)) {
    const std::size_t close = prompt.find('}', open);
    if (close == std::string::npos || close == open + 1)
      fail(fmt::format("\"template\" has a '{{' at byte {} without a field name and '}}'", open));
  }
  if (file.contains("num_dev")) {
    if (!file.at("num_dev").is_number_integer() || file.at("num_dev").get<int>() < 1)
      fail("\"num_dev\" must be an integer >= 1");
    spec.num_dev = file.at("num_dev").get<int>();
  }
  const bool has_labels = file.contains("label_words"),
             has_choices = file.contains("choices_field");
  if (has_labels == has_choices)
    fail(
        "give \"label_words\" (classification) or \"choices_field\" (multiple choice), one of "
        "the two");
  if (has_labels) {
    const std::string label_field = text("label_field", true);
    const auto& words = file.at("label_words");
    if (!words.is_object() || words.size() < 2)
      fail("\"label_words\" must map each label value to its text, for 2 labels or more");
    std::vector<std::string> keys, appended;
    for (const auto& [key, word] : words.items()) {
      if (!word.is_string() || word.get<std::string>().empty())
        fail(fmt::format("label_words[\"{}\"] must be a non-empty string", key));
      keys.push_back(key);
      appended.push_back(word.get<std::string>());
    }
    spec.answers = appended;
    spec.render = [prompt, label_field, keys, appended](const json& row,
                                                        std::vector<Example>& out) {
      const std::string key = label_key(member(row, label_field.c_str()));
      const auto it = std::find(keys.begin(), keys.end(), key);
      if (it == keys.end()) {
        throw FieldError(fmt::format("field \"{}\" is {}, not a key of the task file's label_words",
                                     label_field, key));
      }
      out.push_back(classification(fill_template(prompt, row), appended,
                                   static_cast<std::int32_t>(it - keys.begin())));
    };
    return spec;
  }
  const std::string choices_field = text("choices_field", true);
  const std::string answer_field = text("answer_field", true);
  if (!file.contains("num_choices") || !file.at("num_choices").is_number_integer() ||
      file.at("num_choices").get<int>() < 2)
    fail("\"num_choices\" must be an integer >= 2 (every row has that many choices)");
  const int count = file.at("num_choices").get<int>();
  for (int k = 1; k <= count; ++k) spec.answers.push_back(fmt::format("choice {}", k));
  spec.render = [prompt, choices_field, answer_field, count](const json& row,
                                                             std::vector<Example>& out) {
    const json& list = member(row, choices_field.c_str());
    if (!list.is_array() || list.size() != static_cast<std::size_t>(count)) {
      throw FieldError(fmt::format("field \"{}\" is not an array of {} choices (num_choices)",
                                   choices_field, count));
    }
    const std::string filled = fill_template(prompt, row);
    Example e{strip_spaces(filled), int_field(row, answer_field.c_str(), count), {}, {}};
    for (const json& choice : list) {
      if (!choice.is_string())
        throw FieldError(fmt::format("a choice in \"{}\" is not text", choices_field));
      e.verbalized.push_back(strip_spaces(filled + choice.get<std::string>()));
    }
    out.push_back(std::move(e));
  };
  return spec;
}

}  // namespace sst2
