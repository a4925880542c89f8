// read_labeled_tsv: the real SST-2 files (skipped without the shared data),
// the accepted variations (CRLF, no final newline, more labels), and every
// kind of broken file reported as a mezo::Error naming the file and the line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mezo/data/labeled_text.hpp>
#include <mezo/error.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using mezo_test::error_of;
using mezo_test::TempDir;
using mezo_test::write_bytes;

// read_labeled_tsv(bytes written to a file named `name`) must fail with
// invalid_format; returns the message after checking it names the file.
std::string format_error(const std::string& bytes, const std::string& name = "broken.tsv",
                         const mezo::TsvOptions& options = {}) {
  TempDir dir;
  const fs::path path = write_bytes(dir / name, bytes);
  const std::string message =
      error_of([&] { mezo::read_labeled_tsv(path, options); }, mezo::ErrorCode::invalid_format);
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  return message;
}

const std::string kHeader = "sentence\tlabel\n";

#define EXPECT_HAS(message, part)                    \
  EXPECT_NE((message).find(part), std::string::npos) \
      << "'" << (message) << "' lacks '" << (part) << "'"

}  // namespace

TEST(LabeledTextTsv, ReadsSst2GlueFiles) {
  const fs::path glue = fs::path(MEZO_SHARED_DATA_DIR) / "SST-2" / "glue";
  if (!fs::exists(glue / "train.tsv") || !fs::exists(glue / "dev.tsv"))
    GTEST_SKIP() << "the shared SST-2 data is not at " << glue
                 << " (see ../shared/data/README.md); skipping the real-file check";
  const auto train = mezo::read_labeled_tsv(glue / "train.tsv");
  const auto dev = mezo::read_labeled_tsv(glue / "dev.tsv");
  ASSERT_EQ(train.size(), 67349u);
  ASSERT_EQ(dev.size(), 872u);
  std::size_t train_positive = 0, dev_positive = 0;
  for (const auto& e : train) train_positive += e.label == 1 ? 1 : 0;
  for (const auto& e : dev) dev_positive += e.label == 1 ? 1 : 0;
  EXPECT_EQ(train_positive, 37569u);
  EXPECT_EQ(dev_positive, 444u);
  // The text is the field as written, trailing space included.
  EXPECT_EQ(dev[0].text, "it 's a charming and often affecting journey . ");
  EXPECT_EQ(dev[0].label, 1);
  EXPECT_EQ(train[0].text, "hide new secretions from the parental units ");
  EXPECT_EQ(train[0].label, 0);
}

TEST(LabeledTextTsv, AcceptsCrlfAndMissingFinalNewline) {
  TempDir dir;
  const fs::path lf = write_bytes(dir / "lf.tsv", kHeader + "a good film \t1\nbad .\t0\n");
  const fs::path crlf =
      write_bytes(dir / "crlf.tsv", "sentence\tlabel\r\na good film \t1\r\nbad .\t0\r\n");
  const fs::path no_newline = write_bytes(dir / "nonl.tsv", kHeader + "a good film \t1\nbad .\t0");
  for (const fs::path& path : {lf, crlf, no_newline}) {
    SCOPED_TRACE(path.string());
    const auto examples = mezo::read_labeled_tsv(path);
    ASSERT_EQ(examples.size(), 2u);
    EXPECT_EQ(examples[0].text, "a good film ");
    EXPECT_EQ(examples[0].label, 1);
    EXPECT_EQ(examples[1].text, "bad .");
    EXPECT_EQ(examples[1].label, 0);
  }
}

TEST(LabeledTextTsv, AcceptsUtf8AndMoreLabels) {
  TempDir dir;
  const fs::path path =
      write_bytes(dir / "three.tsv", kHeader + "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\t2\n");
  mezo::TsvOptions three;
  three.num_labels = 3;
  const auto examples = mezo::read_labeled_tsv(path, three);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].text, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(examples[0].label, 2);
  // The same file with the default two labels: label 2 is out of range.
  EXPECT_HAS(error_of([&] { mezo::read_labeled_tsv(path); }, mezo::ErrorCode::invalid_format),
             "line 2");
}

TEST(LabeledTextTsv, MissingFileIsAnIoError) {
  TempDir dir;
  const fs::path path = dir / "absent.tsv";
  const std::string message = error_of([&] { mezo::read_labeled_tsv(path); }, mezo::ErrorCode::io);
  EXPECT_HAS(message, path.string());
}

TEST(LabeledTextTsv, EmptyFileHasNoExamples) {
  const std::string message = format_error("");
  EXPECT_HAS(message, "empty");
  EXPECT_HAS(message, "no examples");
}

TEST(LabeledTextTsv, HeaderOnlyHasNoExamples) {
  EXPECT_HAS(format_error(kHeader), "no examples");
  EXPECT_HAS(format_error("sentence\tlabel"), "no examples");
  EXPECT_HAS(format_error("sentence\tlabel\r\n"), "no examples");
}

TEST(LabeledTextTsv, RejectsAWrongHeader) {
  for (const std::string& header :
       {std::string("label\tsentence\n"), std::string("sentence\n"),
        std::string("sentence\tlabel\tidx\n"), std::string("\xef\xbb\xbfsentence\tlabel\n"),
        std::string("a fine film\t1\n")}) {
    const std::string message = format_error(header + "ok .\t1\n");
    EXPECT_HAS(message, "line 1");
    EXPECT_HAS(message, "header");
  }
}

TEST(LabeledTextTsv, RejectsWrongFieldCounts) {
  std::string message = format_error(kHeader + "fine .\t1\nno label here\n");
  EXPECT_HAS(message, "line 3");
  EXPECT_HAS(message, "1 tab-separated field,");
  message = format_error(kHeader + "fine .\t1\nfine .\t0\nextra\tfield\t1\n");
  EXPECT_HAS(message, "line 4");
  EXPECT_HAS(message, "3 tab-separated fields");
  message = format_error(kHeader + "fine .\t1\n\nfine .\t0\n");
  EXPECT_HAS(message, "line 3");
  EXPECT_HAS(message, "empty");
}

TEST(LabeledTextTsv, RejectsBadLabels) {
  std::string message = format_error(kHeader + "fine .\t1\nbad .\tpositive\n");
  EXPECT_HAS(message, "line 3");
  EXPECT_HAS(message, "'positive' is not an integer");
  message = format_error(kHeader + "fine .\t1 \n");
  EXPECT_HAS(message, "line 2");
  EXPECT_HAS(message, "not an integer");
  message = format_error(kHeader + "fine .\t1.0\n");
  EXPECT_HAS(message, "not an integer");
  message = format_error(kHeader + "fine .\t\n");
  EXPECT_HAS(message, "line 2");
  EXPECT_HAS(message, "label field is empty");
  message = format_error(kHeader + "fine .\t1\nfine .\t0\nodd .\t2\n");
  EXPECT_HAS(message, "line 4");
  EXPECT_HAS(message, "label 2 is out of range");
  EXPECT_HAS(message, "[0, 2)");
  message = format_error(kHeader + "fine .\t-1\n");
  EXPECT_HAS(message, "label -1 is out of range");
  message = format_error(kHeader + "fine .\t99999999999\n");
  EXPECT_HAS(message, "line 2");
  EXPECT_HAS(message, "out of range");
  message = format_error(kHeader + "fine .\t01\n");
  EXPECT_HAS(message, "line 2");
  EXPECT_HAS(message, "not written as a plain integer");
}

TEST(LabeledTextTsv, RejectsInvalidUtf8WithItsOffset) {
  // Line 3 is "ab\xff...": the bad byte is at offset 2 of the line, and the
  // line starts at byte 15 + 9 = 24 of the file.
  std::string message = format_error(kHeader + "fine .\t1\nab\xff cd\t0\n");
  EXPECT_HAS(message, "line 3");
  EXPECT_HAS(message, "invalid UTF-8");
  EXPECT_HAS(message, "byte offset 2 of the line");
  EXPECT_HAS(message, "byte 26 of the file");
  // Truncated, overlong, surrogate and above U+10FFFF sequences.
  for (const std::string& bad :
       {std::string("x\xc3"), std::string("\xc0\xaf"), std::string("\xe0\x80\xaf"),
        std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"), std::string("\x80")}) {
    message = format_error(kHeader + bad + "\t1\n");
    EXPECT_HAS(message, "line 2");
    EXPECT_HAS(message, "invalid UTF-8");
  }
}

TEST(LabeledTextTsv, RejectsEmptySentences) {
  std::string message = format_error(kHeader + "fine .\t1\n\t0\n");
  EXPECT_HAS(message, "line 3");
  EXPECT_HAS(message, "sentence is empty");
  message = format_error(kHeader + "   \t0\n");
  EXPECT_HAS(message, "line 2");
  EXPECT_HAS(message, "sentence is empty (only whitespace)");
}

TEST(LabeledTextTsv, RejectsAStrayCarriageReturn) {
  const std::string message = format_error(kHeader + "fine\r.\t1\n");
  EXPECT_HAS(message, "line 2");
  EXPECT_HAS(message, "carriage return");
}

TEST(LabeledTextTsv, RejectsNoLabels) {
  TempDir dir;
  const fs::path path = write_bytes(dir / "ok.tsv", kHeader + "fine .\t0\n");
  mezo::TsvOptions none;
  none.num_labels = 0;
  EXPECT_HAS(
      error_of([&] { mezo::read_labeled_tsv(path, none); }, mezo::ErrorCode::invalid_argument),
      "num_labels");
}
