#include "trainer/dataset.h"

#include <gtest/gtest.h>

namespace graft::trainer {
namespace {

// One token per byte (ids 1..256); EOS is 0.
TextEncoder ByteEncoder() {
  return {[](std::string_view text) -> Result<std::vector<int64_t>> {
            std::vector<int64_t> ids;
            for (unsigned char c : text) ids.push_back(c + 1);
            return ids;
          },
          0, 0};
}

int64_t Id(char c) { return static_cast<unsigned char>(c) + 1; }

TEST(Dataset, TextRecordsTrainEveryTokenAndEndWithEos) {
  auto data = Dataset::Parse("{\"text\": \"ab\"}\n{\"text\": \"c\", \"id\": 7}\n", "d.jsonl",
                             ByteEncoder());
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  ASSERT_EQ(data->documents().size(), 2u);
  EXPECT_EQ(data->documents()[0].tokens, (std::vector<int64_t>{Id('a'), Id('b'), 0}));
  EXPECT_EQ(data->documents()[0].trained, (std::vector<uint8_t>{1, 1, 1}));
  EXPECT_EQ(data->trained_bytes(), 3);
}

TEST(Dataset, CompletionOnlyLossMasksThePrompt) {
  auto data = Dataset::Parse(R"({"prompt": "Q:", "completion": "A"})", "d.jsonl", ByteEncoder());
  ASSERT_TRUE(data.ok());
  const Document& doc = data->documents()[0];
  EXPECT_EQ(doc.tokens, (std::vector<int64_t>{Id('Q'), Id(':'), Id('A'), 0}));
  EXPECT_EQ(doc.trained, (std::vector<uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ(doc.trained_bytes, 1);

  auto batches = data->Batches({.batch_size = 1, .max_seq_len = 16, .packing = false}, false, 0, 0);
  ASSERT_EQ(batches.size(), 1u);
  const Batch& b = batches[0];
  EXPECT_EQ(b.input_ids, (std::vector<int64_t>{0, Id('Q'), Id(':'), Id('A'), 0}));
  EXPECT_EQ(b.labels, (std::vector<int64_t>{-100, -100, -100, Id('A'), 0}));
  EXPECT_EQ(b.targets, 2);
  EXPECT_EQ(b.tokens, 5);
}

TEST(Dataset, ReportsEveryBadLineWithFileAndLine) {
  auto data = Dataset::Parse(
      "{\"text\": \"ok\"}\n"
      "not json\n"
      "\n"
      "[1, 2]\n"
      "{\"text\": 3}\n"
      "{\"prompt\": \"p\"}\n"
      "{\"text\": \"t\", \"prompt\": \"p\", \"completion\": \"c\"}\n"
      "{\"text\": \"\"}\n"
      "{\"prompt\": \"p\", \"completion\": \"\"}\n"
      "{\"other\": 1}\n",
      "bad.jsonl", ByteEncoder());
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().kind(), ErrorKind::kInvalidInput);
  const std::string m = data.status().message();
  EXPECT_NE(m.find("9 bad lines in bad.jsonl"), std::string::npos) << m;
  for (const char* expected :
       {"bad.jsonl:2: line: not valid JSON", "bad.jsonl:3: empty line",
        "bad.jsonl:4: expected a JSON object", "bad.jsonl:5: \"text\" must be a string",
        "bad.jsonl:6: missing \"completion\"", "bad.jsonl:7: expected {\"text\"",
        "bad.jsonl:8: \"text\" is empty", "bad.jsonl:9: \"completion\" is empty",
        "bad.jsonl:10: expected {\"text\""}) {
    EXPECT_NE(m.find(expected), std::string::npos) << expected << "\n" << m;
  }
  EXPECT_EQ(m.find("bad.jsonl:1:"), std::string::npos);
}

TEST(Dataset, TokenizerErrorsAndEmptyFilesAreReported) {
  TextEncoder failing{
      [](std::string_view) -> Result<std::vector<int64_t>> { return InvalidInput("unknown byte"); },
      0, 0};
  auto data = Dataset::Parse("{\"text\": \"x\"}", "d.jsonl", failing);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.status().message().find("d.jsonl:1: unknown byte"), std::string::npos);
  auto empty = Dataset::Parse("", "e.jsonl", ByteEncoder());
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("e.jsonl: no records"), std::string::npos);
  auto missing = Dataset::Load("/nonexistent/x.jsonl", ByteEncoder());
  EXPECT_EQ(missing.status().kind(), ErrorKind::kNotFound);
}

TEST(Dataset, PaddingSplitsLongDocumentsIntoOverlappingWindows) {
  auto data = Dataset::Parse("{\"text\": \"abcdef\"}\n{\"text\": \"g\"}", "d.jsonl", ByteEncoder());
  ASSERT_TRUE(data.ok());
  // Rows: [0 a b c], [c d e f], [f 0], [0 g 0]; batch size 2 → two batches padded per batch.
  auto batches = data->Batches({.batch_size = 2, .max_seq_len = 4, .packing = false}, false, 0, 0);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].cols, 4);
  EXPECT_EQ(batches[0].input_ids, (std::vector<int64_t>{0, Id('a'), Id('b'), Id('c'), Id('c'),
                                                        Id('d'), Id('e'), Id('f')}));
  EXPECT_EQ(batches[0].labels, (std::vector<int64_t>{-100, Id('a'), Id('b'), Id('c'), -100, Id('d'),
                                                     Id('e'), Id('f')}));
  EXPECT_EQ(batches[1].cols, 3);
  EXPECT_EQ(batches[1].input_ids, (std::vector<int64_t>{Id('f'), 0, 0, 0, Id('g'), 0}));
  EXPECT_EQ(batches[1].labels, (std::vector<int64_t>{-100, 0, -100, -100, Id('g'), 0}));
  EXPECT_EQ(batches[1].attention_mask, (std::vector<int64_t>{1, 1, 0, 1, 1, 1}));
  // Every trained token is a target exactly once: 6 + EOS, 1 + EOS.
  EXPECT_EQ(batches[0].targets + batches[1].targets, 9);
}

TEST(Dataset, PackingConcatenatesWithEosBetweenDocuments) {
  auto data = Dataset::Parse("{\"text\": \"ab\"}\n{\"prompt\": \"c\", \"completion\": \"d\"}",
                             "d.jsonl", ByteEncoder());
  ASSERT_TRUE(data.ok());
  // Stream: 0 a b 0 c d 0 → windows of 4 overlapping by one: [0 a b 0], [0 c d 0].
  auto batches = data->Batches({.batch_size = 4, .max_seq_len = 4, .packing = true}, false, 0, 0);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].rows, 2);
  EXPECT_EQ(batches[0].input_ids,
            (std::vector<int64_t>{0, Id('a'), Id('b'), 0, 0, Id('c'), Id('d'), 0}));
  EXPECT_EQ(batches[0].labels,
            (std::vector<int64_t>{-100, Id('a'), Id('b'), 0, -100, -100, Id('d'), 0}));
  EXPECT_EQ(batches[0].targets, 5);
}

TEST(Dataset, ShuffleIsDeterministicBySeedAndEpoch) {
  std::string jsonl;
  for (char c = 'a'; c <= 'p'; ++c) jsonl += std::string("{\"text\": \"") + c + "\"}\n";
  auto data = Dataset::Parse(jsonl, "d.jsonl", ByteEncoder());
  ASSERT_TRUE(data.ok());
  BatchOptions options{.batch_size = 16, .max_seq_len = 8, .packing = true};
  auto first = [&](uint64_t seed, uint64_t epoch) {
    return data->Batches(options, true, seed, epoch)[0].input_ids;
  };
  EXPECT_EQ(first(1, 0), first(1, 0));
  EXPECT_NE(first(1, 0), first(1, 1));
  EXPECT_NE(first(1, 0), first(2, 0));
  EXPECT_NE(first(1, 0), data->Batches(options, false, 1, 0)[0].input_ids);
}

}  // namespace
}  // namespace graft::trainer
