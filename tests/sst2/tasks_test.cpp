// The MeZO paper's other tasks (examples/sst2/tasks.hpp, task_data.hpp,
// rendered_prompt.hpp): each task renders fixed rows into the text the
// paper's template gives (tests/fixtures/task_prompts.json, made by
// tools/make_task_prompt_fixtures.py); the protocol draws train, dev and test
// as the reference code does, disjoint and by the seed; a bad row names its
// file, line and field; prompts are tokenised with the candidates' tokens
// after the prompt's and cut from the left.
#include "tasks.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "mezo/error.hpp"
#include "mezo/text/tokenizer.hpp"
#include "rendered_prompt.hpp"
#include "task_data.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

// A folder name of the running test's own: ctest runs a fixture's tests in
// parallel processes, which must not share (and remove) one folder.
std::string own_name() { return testing::UnitTest::GetInstance()->current_test_info()->name(); }

TEST(Tasks, RowsRenderAsThePapersTemplates) {
  std::ifstream in(fs::path(MEZO_TEST_FIXTURES_DIR) / "task_prompts.json");
  ASSERT_TRUE(in) << "missing tests/fixtures/task_prompts.json";
  const auto fixture = nlohmann::json::parse(in).at("tasks");
  for (const sst2::TaskSpec& spec : sst2::task_specs()) {
    SCOPED_TRACE(spec.name);
    ASSERT_TRUE(fixture.contains(spec.name)) << "no fixture rows for a built-in task";
    for (const auto& c : fixture.at(spec.name)) {
      std::vector<sst2::Example> got;
      spec.render(c.at("row"), got);
      const auto& want = c.at("examples");
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].text, want[i].at("prompt").get<std::string>());
        EXPECT_EQ(got[i].verbalized, want[i].at("verbalized").get<std::vector<std::string>>());
        EXPECT_EQ(got[i].label, want[i].at("label").get<int>());
        EXPECT_EQ(got[i].verbalized.size(), spec.answers.size());
        if (want[i].contains("gold_answers")) {
          EXPECT_TRUE(spec.generation);
          EXPECT_EQ(got[i].gold_answers,
                    want[i].at("gold_answers").get<std::vector<std::string>>());
        } else {
          EXPECT_FALSE(spec.generation);
          EXPECT_TRUE(got[i].gold_answers.empty());
        }
      }
    }
  }
}

TEST(Tasks, UnknownTaskNamesTheKnownOnes) {
  const std::string message =
      mezo_test::error_of([] { sst2::find_task("squad2"); }, mezo::ErrorCode::invalid_argument);
  EXPECT_CONTAINS(message, "--task squad2: unknown task");
  EXPECT_CONTAINS(message, "sst2, rte, cb, boolq, wsc, wic, multirc, copa, squad, drop");
}

// A data folder with superglue/RTE (train and val) and superglue/BoolQ (val only).
class TaskData : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("task_data_test." + own_name());
    fs::remove_all(dir_);
    write("superglue/RTE/train.jsonl", rte_rows(0, 40));
    write("superglue/RTE/val.jsonl", rte_rows(1000, 30));
    std::string boolq;
    for (int i = 0; i < 50; ++i)
      boolq += fmt::format(R"({{"question": "q{}", "passage": "p", "label": {}}})", i,
                           i % 3 == 0 ? "true" : "false") +
               "\n";
    write("superglue/BoolQ/val.jsonl", boolq);
    options_.data_dir = dir_;
    options_.num_train = 20;
    options_.num_dev = 8;
  }
  static std::string rte_rows(int first, int count) {
    std::string out;
    for (int i = first; i < first + count; ++i)
      out += fmt::format(R"({{"premise": "p{}", "hypothesis": "h", "label": "{}"}})", i,
                         i % 2 ? "entailment" : "not_entailment") +
             "\n";
    return out;
  }
  void write(const std::string& name, const std::string& text) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  sst2::RunData load(const char* task) {
    return sst2::load_task_data(options_, sst2::find_task(task));
  }
  static std::set<std::string> texts(const std::vector<sst2::Example>& v) {
    std::set<std::string> out;
    for (const auto& e : v) out.insert(e.text);
    return out;
  }
  fs::path dir_;
  sst2::TrainOptions options_;
};

TEST_F(TaskData, DrawsDisjointTrainAndDevFromTrainAndTestFromVal) {
  const auto data = load("rte");
  EXPECT_EQ(data.train.size(), 20u);
  EXPECT_EQ(data.dev.size(), 8u);
  EXPECT_EQ(data.test.size(), 30u);  // all of val: fewer than 1,000
  const auto train = texts(data.train), dev = texts(data.dev), test = texts(data.test);
  EXPECT_EQ(train.size() + dev.size(), 28u);  // disjoint
  for (const auto& t : dev) EXPECT_FALSE(train.contains(t));
  for (const auto& t : test) EXPECT_NE(t.find("p1"), std::string::npos);  // premises 1000..1029
  // The same seed draws the same examples in the same order; another seed others.
  const auto again = load("rte");
  for (std::size_t i = 0; i < data.train.size(); ++i)
    EXPECT_EQ(data.train[i].text, again.train[i].text);
  options_.data_seed = 7;
  EXPECT_NE(texts(load("rte").train), train);
}

TEST_F(TaskData, APoolSmallerThanAskedIsAllDrawnAndDevComesLast) {
  options_.num_train = 1000;
  const auto data = load("rte");  // 40 rows: 32 train + 8 dev
  EXPECT_EQ(data.train.size(), 32u);
  EXPECT_EQ(data.dev.size(), 8u);
  options_.num_dev = 40;
  EXPECT_CONTAINS(mezo_test::error_of([&] { load("rte"); }, mezo::ErrorCode::invalid_argument),
                  "none left for training after --num-dev 40");
}

TEST_F(TaskData, WithoutATrainSplitTestIsDrawnFirstAndTheRestIsThePool) {
  const auto data = load("boolq");  // 50 val rows: 25 test, 25 in the pool
  EXPECT_EQ(data.test.size(), 25u);
  EXPECT_EQ(data.train.size(), 17u);
  EXPECT_EQ(data.dev.size(), 8u);
  auto test = texts(data.test);
  for (const auto& e : data.train) EXPECT_FALSE(test.contains(e.text));
  for (const auto& e : data.dev) EXPECT_FALSE(test.contains(e.text));
  EXPECT_CONTAINS(data.description, "no train split here");
  // The test set depends on the data seed only, as the reference's does.
  options_.num_train = 5;
  EXPECT_EQ(texts(load("boolq").test), test);
}

TEST_F(TaskData, ABadRowNamesItsFileLineAndField) {
  const auto message = [&] {
    return mezo_test::error_of([&] { load("rte"); }, mezo::ErrorCode::invalid_format);
  };
  write("superglue/RTE/train.jsonl",
        rte_rows(0, 3) + "{\"premise\": \"p\", \"label\": \"entailment\"}\n");
  EXPECT_CONTAINS(message(), "RTE/train.jsonl:4: missing field \"hypothesis\" (task rte)");
  write("superglue/RTE/train.jsonl",
        rte_rows(0, 2) + "{\"premise\": \"p\", \"hypothesis\": 3, \"label\": \"entailment\"}\n");
  EXPECT_CONTAINS(message(), "train.jsonl:3: field \"hypothesis\" is not a string");
  write("superglue/RTE/train.jsonl",
        rte_rows(0, 1) + "{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": \"maybe\"}\n");
  EXPECT_CONTAINS(message(),
                  "train.jsonl:2: field \"label\" is \"maybe\", not one of the task's labels");
  write("superglue/RTE/train.jsonl", rte_rows(0, 5) + "{\"premise\": \"p\",\n");
  EXPECT_CONTAINS(message(), "train.jsonl:6: not a JSON object");
  write("superglue/RTE/train.jsonl", "\n");
  EXPECT_CONTAINS(message(), "train.jsonl: no examples");
  fs::remove(dir_ / "superglue/RTE/train.jsonl");
  EXPECT_CONTAINS(mezo_test::error_of([&] { load("rte"); }, mezo::ErrorCode::io),
                  "--task rte: cannot read");
}

// SQuAD's file is one JSON document: its questions become rows in file order,
// train and dev are drawn from the questions not in test, and a bad document
// names the article and question at fault.
TEST_F(TaskData, SquadQuestionsAreRowsOfItsDocument) {
  std::string articles;
  for (int a = 0; a < 3; ++a) {
    std::string questions;
    for (int q = 0; q < 10; ++q) {
      questions += fmt::format(
          R"({}{{"id": "{}-{}", "question": " q{}-{} ", "answers": [{{"text": "a{}"}}, {{"text": "b"}}]}})",
          q ? ", " : "", a, q, a, q, q);
    }
    articles +=
        fmt::format(R"({}{{"title": "T{}", "paragraphs": [{{"context": "c{}", "qas": [{}]}}]}})",
                    a ? ", " : "", a, a, questions);
  }
  write("squad/dev-v1.1.json", R"({"version": "1.1", "data": [)" + articles + "]}");
  const auto data = load("squad");  // 30 questions: 15 test, 15 in the pool
  EXPECT_EQ(data.test.size(), 15u);
  EXPECT_EQ(data.train.size(), 7u);
  EXPECT_EQ(data.dev.size(), 8u);
  EXPECT_CONTAINS(data.description, "no train split here");
  const auto all = sst2::read_task_file(dir_ / "squad/dev-v1.1.json", sst2::find_task("squad"));
  ASSERT_EQ(all.size(), 30u);
  EXPECT_EQ(all[12].text, "Title: T1\nContext: c1\nQuestion: q1-2\nAnswer:");
  EXPECT_EQ(all[12].verbalized, std::vector<std::string>{all[12].text + " a2\n"});
  EXPECT_EQ(all[12].gold_answers, (std::vector<std::string>{"a2", "b"}));

  const auto message = [&] {
    return mezo_test::error_of([&] { load("squad"); }, mezo::ErrorCode::invalid_format);
  };
  write(
      "squad/dev-v1.1.json",
      R"({"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [{"question": "q", "answers": []}]}]}]})");
  EXPECT_CONTAINS(
      message(),
      "dev-v1.1.json: question 1: field \"answers\" is not a non-empty array (task squad)");
  write(
      "squad/dev-v1.1.json",
      R"({"data": [{"title": "T", "paragraphs": []}, {"title": "U", "paragraphs": [{"qas": []}]}]})");
  EXPECT_CONTAINS(message(), "dev-v1.1.json: article 1: missing field \"context\" (task squad)");
  write("squad/dev-v1.1.json", R"({"data": [)");
  EXPECT_CONTAINS(message(), "dev-v1.1.json: not a JSON document (task squad)");
}

// Byte tokens 0..255, then " It" 256, "<s>" 257 (begin).
std::unique_ptr<mezo::Tokenizer> byte_tokenizer(bool add_begin) {
  mezo::ByteLevelBpeVocabulary v;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(mezo_test::byte_token(b));
  v.tokens.push_back("ĠIt");
  v.tokens.push_back("<s>");
  v.token_types.assign(v.tokens.size(), 1);
  v.token_types[257] = 3;
  v.ignore_merges = true;
  v.special.begin = 257;
  v.special.add_begin = add_begin;
  return mezo::make_byte_level_bpe(std::move(v));
}

TEST(RenderedPrompt, CandidatesAreWhatTheyAddAfterThePromptsTokens) {
  const auto tok = byte_tokenizer(true);
  const sst2::RenderedPrompt prompt(*tok, "t", {"Yes", "No"}, 64);
  const auto e = prompt.encode({"ab\n", 1, {"ab\nYes", "ab\nNo"}});
  EXPECT_EQ(e.ids, (std::vector<std::int32_t>{257, 'a', 'b', '\n'}));
  EXPECT_EQ(e.query_position, 3);
  EXPECT_EQ(e.label, 1);
  EXPECT_EQ(e.candidates, (std::vector<std::vector<std::int32_t>>{{'Y', 'e', 's'}, {'N', 'o'}}));
}

TEST(RenderedPrompt, ALongPromptLosesTokensFromTheLeftAfterBegin) {
  const auto tok = byte_tokenizer(true);
  const sst2::RenderedPrompt prompt(*tok, "t", {"1", "2"}, 8);  // BOS + 5 prompt + 2 candidate
  const auto e = prompt.encode({"abcdefghij", 0, {"abcdefghijxy", "abcdefghijz"}});
  EXPECT_EQ(e.ids, (std::vector<std::int32_t>{257, 'f', 'g', 'h', 'i', 'j'}));
  EXPECT_EQ(e.query_position, 5);
}

TEST(RenderedPrompt, AGenerationTaskKeepsRoomForItsAnswer) {
  const auto tok = byte_tokenizer(true);
  const sst2::RenderedPrompt prompt(*tok, "t", {"the answer"}, 64, 50);
  sst2::Example e{std::string(40, 'x') + "\nAnswer:", 0, {}, {"a", "b"}};
  e.verbalized.push_back(e.text + " a\n");
  const auto encoded = prompt.encode(e);
  EXPECT_EQ(encoded.ids.size(), 64u - 50u);  // BOS and the last 13 prompt tokens
  EXPECT_EQ(encoded.ids.front(), 257);
  EXPECT_EQ(encoded.gold_answers, e.gold_answers);
  ASSERT_EQ(encoded.candidates.size(), 1u);
  EXPECT_EQ(encoded.candidates[0].size(), 3u);  // " a" as two byte tokens and "\n"
}

TEST(RenderedPrompt, ACandidateThatChangesThePromptsTokensIsRefused) {
  const auto tok = byte_tokenizer(false);
  const sst2::RenderedPrompt prompt(*tok, "t", {"1", "2"}, 64);
  // " It" is one token; " Itx" is four bytes: the prompt's last token changes.
  EXPECT_CONTAINS(mezo_test::error_of(
                      [&] {
                        prompt.encode({"x It", 0, {"x Itx", "x It y"}});
                      },
                      mezo::ErrorCode::invalid_argument),
                  "adds no tokens after the prompt's or changes them");
  EXPECT_CONTAINS(mezo_test::error_of(
                      [&] {
                        prompt.encode({"x", 0, {"x", "xy"}});
                      },
                      mezo::ErrorCode::invalid_argument),
                  "adds no tokens");
  EXPECT_CONTAINS(mezo_test::error_of(
                      [&] {
                        prompt.encode({"x", 0, {}});
                      },
                      mezo::ErrorCode::invalid_argument),
                  "has no candidates");
}

}  // namespace

namespace {

// A task file and its data in a fresh folder.
class TaskFile : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("task_file_test." + own_name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return dir_ / name;
  }
  std::string error(const std::string& json) {
    return mezo_test::error_of([&] { sst2::load_task_file(write("task.json", json)); },
                               mezo::ErrorCode::invalid_argument);
  }
  fs::path dir_;
};

TEST_F(TaskFile, ClassificationFillsTheTemplateAndKeepsTheLabelWordsOrder) {
  const auto spec = sst2::load_task_file(write("task.json", R"({
    "name": "reviews", "train": "train.jsonl", "template": "Review: {text} ({stars} stars)\nSentiment:",
    "label_field": "label", "label_words": {"pos": " positive", "neg": " negative"}})"));
  EXPECT_EQ(spec.name, "reviews");
  EXPECT_EQ(spec.answers, (std::vector<std::string>{" positive", " negative"}));
  EXPECT_EQ(spec.train_file, dir_ / "train.jsonl");
  EXPECT_TRUE(spec.test_file.empty());
  std::vector<sst2::Example> out;
  spec.render(nlohmann::json::parse(R"({"text": "Fine.", "stars": 4, "label": "neg"})"), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "Review: Fine. (4 stars)\nSentiment:");
  EXPECT_EQ(out[0].verbalized,
            (std::vector<std::string>{"Review: Fine. (4 stars)\nSentiment: positive",
                                      "Review: Fine. (4 stars)\nSentiment: negative"}));
  EXPECT_EQ(out[0].label, 1);
  EXPECT_THROW(
      spec.render(nlohmann::json::parse(R"({"text": "x", "stars": 1, "label": "meh"})"), out),
      sst2::FieldError);
  EXPECT_THROW(spec.render(nlohmann::json::parse(R"({"stars": 1, "label": "pos"})"), out),
               sst2::FieldError);
}

TEST_F(TaskFile, MultipleChoiceTakesEachRowsChoices) {
  const auto spec = sst2::load_task_file(write("task.json", R"({
    "name": "capitals", "train": "train.jsonl", "test": "test.jsonl", "template": "Q: {q}\nA:",
    "choices_field": "options", "answer_field": "answer", "num_choices": 3, "num_dev": 4})"));
  EXPECT_EQ(spec.answers, (std::vector<std::string>{"choice 1", "choice 2", "choice 3"}));
  EXPECT_EQ(spec.test_file, dir_ / "test.jsonl");
  EXPECT_EQ(spec.num_dev, 4);
  std::vector<sst2::Example> out;
  spec.render(nlohmann::json::parse(
                  R"({"q": "France?", "options": [" Paris", " Rome", " Oslo"], "answer": 0})"),
              out);
  EXPECT_EQ(out[0].verbalized[2], "Q: France?\nA: Oslo");
  EXPECT_EQ(out[0].label, 0);
  EXPECT_THROW(
      spec.render(nlohmann::json::parse(R"({"q": "x", "options": [" a", " b"], "answer": 0})"),
                  out),
      sst2::FieldError);
  EXPECT_THROW(
      spec.render(
          nlohmann::json::parse(R"({"q": "x", "options": [" a", " b", " c"], "answer": 3})"), out),
      sst2::FieldError);
}

TEST_F(TaskFile, ABadTaskFileNamesTheKeyAtFault) {
  const std::string base = R"("name": "t", "train": "train.jsonl", "template": "{x}")";
  EXPECT_CONTAINS(error("[1]"), "not a JSON object");
  EXPECT_CONTAINS(
      error(
          R"({"train": "a", "template": "b", "label_field": "l", "label_words": {"0": "a", "1": "b"}})"),
      "missing \"name\"");
  EXPECT_CONTAINS(error("{" + base + "}"),
                  "give \"label_words\" (classification) or \"choices_field\"");
  EXPECT_CONTAINS(error("{" + base + R"(, "label_field": "l", "label_words": {"0": "a"}})"),
                  "for 2 labels or more");
  EXPECT_CONTAINS(error(R"({"name": "t", "train": "a", "template": "oops {x", "label_field": "l",
                           "label_words": {"0": "a", "1": "b"}})"),
                  "without a field name");
  EXPECT_CONTAINS(error(R"({"name": "rte", "train": "a", "template": "{x}", "label_field": "l",
                           "label_words": {"0": "a", "1": "b"}})"),
                  "is a built-in task's");
  EXPECT_CONTAINS(error("{" + base + R"(, "choices_field": "c", "answer_field": "a"})"),
                  "\"num_choices\" must be an integer >= 2");
  EXPECT_CONTAINS(
      mezo_test::error_of([&] { sst2::load_task_file(dir_ / "none.json"); }, mezo::ErrorCode::io),
      "cannot read it");
}

TEST_F(TaskFile, DataComeFromItsOwnFilesWithTestDrawnFirstWithoutATestFile) {
  std::string rows;
  for (int i = 0; i < 40; ++i) rows += fmt::format(R"({{"x": "r{}", "l": {}}})", i, i % 2) + "\n";
  write("train.jsonl", rows);
  const auto spec = sst2::load_task_file(write("task.json", R"({"name": "t", "train": "train.jsonl",
      "template": "{x}", "label_field": "l", "label_words": {"0": " a", "1": " b"}})"));
  sst2::TrainOptions o;
  o.num_train = 10;
  o.num_dev = 5;
  const auto data = sst2::load_task_data(o, spec);
  EXPECT_EQ(data.test.size(), 20u);  // half of the one file
  EXPECT_EQ(data.train.size(), 10u);
  EXPECT_EQ(data.dev.size(), 5u);
  EXPECT_CONTAINS(data.description, "not in test");
}

}  // namespace
