#include "models/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "core/file_util.h"
#include "core/json.h"

namespace graft {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

Tokenizer MustLoad(const Json& json) {
  auto tokenizer = Tokenizer::FromJson(json.dump(), "tok.json");
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  return std::move(tokenizer).value();
}

// graft's byte-level tokenizer.json plus merges; each merged token gets the next free id.
Json ByteLevelWithMerges(const std::vector<std::pair<std::string, std::string>>& merges,
                         bool as_pairs = false) {
  Json json = *ParseJson(MakeByteLevelTokenizerJson(), "byte-level");
  Json& model = json["model"];
  int next = 257;
  for (const auto& [a, b] : merges) {
    if (!model["vocab"].contains(a + b)) model["vocab"][a + b] = next++;
    model["merges"].push_back(as_pairs ? Json::array({a, b}) : Json(a + " " + b));
  }
  return json;
}

const std::vector<std::pair<std::string, std::string>> kHelloWorldMerges = {
    {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"},
    {"Ġ", "w"}, {"o", "r"}, {"Ġw", "or"}, {"l", "d"}};

// A Llama-2-style tokenizer.json: <unk>, <s>, </s>, 256 byte-fallback tokens, then pieces.
Json Llama2Style() {
  Json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    vocab[name] = 3 + b;
  }
  const char* pieces[] = {"▁", "h", "e", "l", "o", "▁h", "ll", "▁he", "▁hell", "▁hello"};
  for (int i = 0; i < 10; ++i) vocab[pieces[i]] = 259 + i;
  Json added = Json::array();
  for (int i = 0; i < 3; ++i) {
    added.push_back({{"id", i},
                     {"content", i == 0   ? "<unk>"
                                 : i == 1 ? "<s>"
                                          : "</s>"},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  return {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", "▁"}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}}}}},
      {"pre_tokenizer", nullptr},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair", Json::array()},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}},
          {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", "<unk>"},
        {"fuse_unk", true},
        {"byte_fallback", true},
        {"vocab", vocab},
        {"merges", {"▁ h", "l l", "▁h e", "▁he ll", "▁hell o"}}}},
  };
}

std::string RandomBytes(std::mt19937& rng, size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::string RandomUtf8(std::mt19937& rng, size_t max_chars) {
  const std::pair<char32_t, char32_t> ranges[] = {{0x20, 0x7e},     {0x09, 0x0d},
                                                  {0xa0, 0xff},     {0x370, 0x3ff},
                                                  {0x4e00, 0x4fff}, {0x1f600, 0x1f64f}};
  std::string s;
  size_t n = rng() % (max_chars + 1);
  for (size_t i = 0; i < n; ++i) {
    auto [lo, hi] = ranges[rng() % std::size(ranges)];
    char32_t cp = lo + rng() % (hi - lo + 1);
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s += {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    } else if (cp < 0x10000) {
      s += {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
            static_cast<char>(0x80 | (cp & 0x3F))};
    } else {
      s += {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
            static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    }
  }
  return s;
}

void ExpectRejected(const Json& json, std::initializer_list<std::string_view> parts) {
  auto t = Tokenizer::FromJson(json.dump(), "bad/tokenizer.json");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_THAT(t.status().message(), HasSubstr("bad/tokenizer.json"));
  for (std::string_view part : parts) {
    EXPECT_THAT(t.status().message(), HasSubstr(std::string(part)));
  }
}

TEST(ByteLevelTokenizerJson, HasHuggingFaceShape) {
  Json json = *ParseJson(MakeByteLevelTokenizerJson(), "byte-level");
  EXPECT_EQ(json["model"]["type"], "BPE");
  EXPECT_EQ(json["model"]["merges"], Json::array());
  EXPECT_EQ(json["model"]["byte_fallback"], false);
  EXPECT_TRUE(json["model"]["unk_token"].is_null());
  EXPECT_EQ(json["model"]["vocab"].size(), 257u);
  EXPECT_EQ(json["model"]["vocab"]["Ġ"], 32);
  EXPECT_EQ(json["model"]["vocab"]["Ā"], 0);
  EXPECT_EQ(json["model"]["vocab"]["a"], 97);
  EXPECT_EQ(json["pre_tokenizer"]["type"], "ByteLevel");
  EXPECT_EQ(json["pre_tokenizer"]["add_prefix_space"], false);
  EXPECT_EQ(json["pre_tokenizer"]["use_regex"], true);
  EXPECT_EQ(json["decoder"]["type"], "ByteLevel");
  EXPECT_EQ(json["post_processor"]["type"], "ByteLevel");
  EXPECT_TRUE(json["normalizer"].is_null());
  ASSERT_EQ(json["added_tokens"].size(), 1u);
  EXPECT_EQ(json["added_tokens"][0]["id"], 256);
  EXPECT_EQ(json["added_tokens"][0]["content"], "<|endoftext|>");
  EXPECT_EQ(json["added_tokens"][0]["special"], true);
  EXPECT_EQ(MakeByteLevelTokenizerJson(), MakeByteLevelTokenizerJson());
}

TEST(ByteLevelTokenizer, IdsAreByteValues) {
  Tokenizer t = MustLoad(*ParseJson(MakeByteLevelTokenizerJson(), "byte-level"));
  EXPECT_EQ(t.vocab_size(), 257);
  EXPECT_EQ(t.Encode("hi\n\xff", false), (std::vector<int32_t>{104, 105, 10, 255}));
  EXPECT_EQ(t.Encode("hi", true), (std::vector<int32_t>{104, 105}));  // GPT-2 adds nothing
  EXPECT_EQ(t.IdToToken(32), "Ġ");
  EXPECT_EQ(t.IdToToken(10), "Ċ");
  EXPECT_EQ(t.TokenToId("<|endoftext|>"), 256);
  EXPECT_EQ(t.eos_id(), 256);
  EXPECT_EQ(t.bos_id(), std::nullopt);
  EXPECT_EQ(t.pad_id(), std::nullopt);
  EXPECT_EQ(t.IdToToken(257), std::nullopt);
  EXPECT_EQ(t.IdToToken(-1), std::nullopt);
}

TEST(ByteLevelTokenizer, LoadsFromAFile) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "tokenizer.json", MakeByteLevelTokenizerJson()).ok());
  auto t = Tokenizer::Load(dir.path() / "tokenizer.json");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->vocab_size(), 257);
  auto missing = Tokenizer::Load(dir.path() / "nope.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), ErrorKind::kNotFound);
}

TEST(ByteLevelTokenizer, MergesByRankGpt2Style) {
  for (bool as_pairs : {false, true}) {
    Tokenizer t = MustLoad(ByteLevelWithMerges(kHelloWorldMerges, as_pairs));
    // "hello" -> he, ll, hell, hello; " world" -> Ġw, or, Ġwor, ld.
    int32_t hello = *t.TokenToId("hello"), gwor = *t.TokenToId("Ġwor"), ld = *t.TokenToId("ld");
    EXPECT_EQ(hello, 260);
    EXPECT_EQ(gwor, 263);
    EXPECT_EQ(ld, 264);
    EXPECT_THAT(t.Encode("hello world", false), ElementsAre(260, 263, 264));
    EXPECT_EQ(*t.Decode(t.Encode("hello world", false), false), "hello world");
    // Words are merged separately: "hell dd" is "hell" and " dd" (Ġ is byte 32).
    EXPECT_THAT(t.Encode("hell dd", false), ElementsAre(259, 32, 'd', 'd'));
  }
}

TEST(ByteLevelTokenizer, TiesGoToTheLeftmostPair) {
  Tokenizer t = MustLoad(ByteLevelWithMerges({{"a", "a"}}));
  EXPECT_THAT(t.Encode("aaa", false), ElementsAre(257, 'a'));
  EXPECT_THAT(t.Encode("aaaa", false), ElementsAre(257, 257));
}

TEST(ByteLevelTokenizer, MatchesSpecialTokensBeforeBpe) {
  Tokenizer t = MustLoad(ByteLevelWithMerges(kHelloWorldMerges));
  EXPECT_THAT(t.Encode("hello<|endoftext|>hello", false), ElementsAre(260, 256, 260));
  EXPECT_THAT(t.Encode("<|endoftext|>", false), ElementsAre(256));
  EXPECT_EQ(t.Encode("<|endoftext|", false).size(), 12u);  // not the special token
  std::vector<int32_t> ids = {260, 256, 263};
  EXPECT_EQ(*t.Decode(ids, false), "hello<|endoftext|> wor");
  EXPECT_EQ(*t.Decode(ids, true), "hello wor");
}

TEST(ByteLevelTokenizer, Gpt2RegexSplitsWords) {
  // With ignore_merges, a word that is in the vocab is one token: that shows the split.
  Json json = ByteLevelWithMerges({});
  json["model"]["ignore_merges"] = true;
  int next = 257;
  for (const char* word : {"Ġworld", "'s", "Ġ123", "Ġ!!", "ĊĊ", "ĠÃ©"}) {
    json["model"]["vocab"][word] = next++;
  }
  Tokenizer t = MustLoad(json);
  auto id = [&](const char* token) { return *t.TokenToId(token); };
  EXPECT_THAT(t.Encode("it's world 123 !!", false),
              ElementsAre('i', 't', id("'s"), id("Ġworld"), id("Ġ123"), id("Ġ!!")));
  // \s+(?!\S): of "\n\n world", "\n\n" is one word and " world" another.
  EXPECT_THAT(t.Encode("\n\n world", false), ElementsAre(id("ĊĊ"), id("Ġworld")));
  EXPECT_THAT(t.Encode("  world", false), ElementsAre(32, id("Ġworld")));
  EXPECT_THAT(t.Encode(" é", false), ElementsAre(id("ĠÃ©")));  // é (C3 A9) is a letter
  // GPT-2 splits "  \n\nx" as "  \n", "\n", "x".
  EXPECT_THAT(t.Encode("  \n\nx", false), ElementsAre(32, 32, 10, 10, 'x'));
}

TEST(ByteLevelTokenizer, Llama3RegexSplitsDigitsInThrees) {
  Json json = ByteLevelWithMerges({});
  json["pre_tokenizer"] = {{"type", "Sequence"},
                           {"pretokenizers",
                            {{{"type", "Split"},
                              {"pattern", {{"Regex", kLlama3Regex}}},
                              {"behavior", "Isolated"},
                              {"invert", false}},
                             {{"type", "ByteLevel"},
                              {"add_prefix_space", false},
                              {"trim_offsets", true},
                              {"use_regex", false}}}}};
  json["model"]["ignore_merges"] = true;
  int next = 257;
  for (const char* word : {"123", "45", "'S", "Ġworld", "ĠĠĊĊ", "Ġ!!Ċ", ",world"}) {
    json["model"]["vocab"][word] = next++;
  }
  Tokenizer t = MustLoad(json);
  auto id = [&](const char* token) { return *t.TokenToId(token); };
  EXPECT_THAT(t.Encode("12345", false), ElementsAre(id("123"), id("45")));
  EXPECT_THAT(t.Encode("'S world", false), ElementsAre(id("'S"), id("Ġworld")));
  EXPECT_THAT(t.Encode(" !!\n", false), ElementsAre(id("Ġ!!Ċ")));
  EXPECT_THAT(t.Encode(",world", false), ElementsAre(id(",world")));
  // \s*[\r\n]+ takes the whitespace up to the last line break in one word.
  EXPECT_THAT(t.Encode("  \n\nx", false), ElementsAre(id("ĠĠĊĊ"), 'x'));
}

TEST(ByteLevelTokenizer, RoundTripsArbitraryBytesAndUtf8) {
  Tokenizer gpt2 = MustLoad(ByteLevelWithMerges(kHelloWorldMerges));
  std::mt19937 rng(1234);
  for (int i = 0; i < 500; ++i) {
    std::string bytes = RandomBytes(rng, 200);
    EXPECT_EQ(*gpt2.Decode(gpt2.Encode(bytes, false), false), bytes);
    std::string text = RandomUtf8(rng, 100);
    EXPECT_EQ(*gpt2.Decode(gpt2.Encode(text, true), false), text);
  }
}

TEST(SentencePieceTokenizer, PrependsMetaspaceAndMergesByRank) {
  Tokenizer t = MustLoad(Llama2Style());
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_EQ(t.pad_id(), std::nullopt);
  EXPECT_EQ(t.vocab_size(), 269);
  EXPECT_THAT(t.Encode("hello", true), ElementsAre(1, 268));
  EXPECT_THAT(t.Encode("hello", false), ElementsAre(268));
  EXPECT_THAT(t.Encode("hello hello", false), ElementsAre(268, 268));
  EXPECT_EQ(*t.Decode(std::vector<int32_t>{1, 268, 268}, true), "hello hello");
  EXPECT_EQ(*t.Decode(std::vector<int32_t>{1, 268}, false), "<s> hello");
}

TEST(SentencePieceTokenizer, FallsBackToBytes) {
  Tokenizer t = MustLoad(Llama2Style());
  // "é" is not in the vocab: its UTF-8 bytes C3 A9 become <0xC3> <0xA9>.
  EXPECT_THAT(t.Encode("hello é", false), ElementsAre(268, 259, 3 + 0xC3, 3 + 0xA9));
  EXPECT_EQ(*t.Decode(t.Encode("hello é", true), true), "hello é");
  EXPECT_EQ(t.IdToToken(3 + 0xC3), "<0xC3>");
  // Invalid UTF-8 falls back to its bytes too.
  EXPECT_THAT(t.Encode("\xff", false), ElementsAre(259, 3 + 0xFF));
}

TEST(SentencePieceTokenizer, MatchesSpecialTokensInText) {
  Tokenizer t = MustLoad(Llama2Style());
  EXPECT_THAT(t.Encode("hello</s>", false), ElementsAre(268, 2));
  EXPECT_EQ(*t.Decode(std::vector<int32_t>{268, 2}, true), "hello");
  EXPECT_EQ(*t.Decode(std::vector<int32_t>{268, 2}, false), "hello</s>");
}

TEST(SentencePieceTokenizer, MetaspacePreTokenizerSplitsWords) {
  Json json = Llama2Style();
  json["normalizer"] = nullptr;
  json["pre_tokenizer"] = {
      {"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", true}};
  json["decoder"] = {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}};
  Tokenizer t = MustLoad(json);
  EXPECT_THAT(t.Encode("hello hello", false), ElementsAre(268, 268));
  EXPECT_EQ(*t.Decode(t.Encode("hello hello", false), false), "hello hello");
}

TEST(SentencePieceTokenizer, TemplateSuffixGivesEosAndPaddingGivesPad) {
  Json json = Llama2Style();
  json["post_processor"]["single"].push_back({{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}});
  json["padding"] = {{"pad_id", 0}, {"pad_token", "<unk>"}};
  Tokenizer t = MustLoad(json);
  EXPECT_THAT(t.Encode("hello", true), ElementsAre(1, 268, 2));
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_EQ(t.pad_id(), 0);
  json["post_processor"]["single"][0]["SpecialToken"]["id"] = "<nope>";
  ExpectRejected(json, {"post_processor.single[0]", "<nope>"});
}

TEST(SentencePieceTokenizer, EncodesLongTextWithoutPreTokenization) {
  Tokenizer t = MustLoad(Llama2Style());
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "hello ";
  std::vector<int32_t> ids = t.Encode(text, false);
  ASSERT_EQ(ids.size(), 20001u);  // 20000 × ▁hello, then the trailing ▁
  EXPECT_EQ(ids.front(), 268);
  EXPECT_EQ(ids.back(), 259);
  EXPECT_EQ(*t.Decode(ids, false), text);
}

TEST(SentencePieceTokenizer, RoundTripsArbitraryUtf8AndBytes) {
  Tokenizer t = MustLoad(Llama2Style());
  std::mt19937 rng(99);
  for (int i = 0; i < 500; ++i) {
    std::string text = RandomUtf8(rng, 100);
    EXPECT_EQ(*t.Decode(t.Encode(text, true), true), text);
    std::string bytes = RandomBytes(rng, 100);
    EXPECT_EQ(*t.Decode(t.Encode(bytes, false), false), bytes);
  }
}

TEST(Tokenizer, DecodeRefusesUnknownIds) {
  Tokenizer t = MustLoad(*ParseJson(MakeByteLevelTokenizerJson(), "byte-level"));
  for (int32_t bad : {-1, 257, 1 << 30}) {
    auto text = t.Decode(std::vector<int32_t>{104, bad}, false);
    ASSERT_FALSE(text.ok()) << bad;
    EXPECT_THAT(text.status().message(), HasSubstr(std::to_string(bad)));
  }
}

TEST(Tokenizer, RejectsUnsupportedModels) {
  for (const char* type : {"WordPiece", "Unigram", "WordLevel"}) {
    Json json = ByteLevelWithMerges({});
    json["model"]["type"] = type;
    ExpectRejected(json, {"model.type", type, "unsupported"});
  }
  Json dropout = ByteLevelWithMerges({});
  dropout["model"]["dropout"] = 0.1;
  ExpectRejected(dropout, {"model.dropout"});
  Json bert = ByteLevelWithMerges({});
  bert["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
  ExpectRejected(bert, {"pre_tokenizer", "BertPreTokenizer", "not supported"});
  Json regex = ByteLevelWithMerges({});
  regex["pre_tokenizer"] = {{"type", "Split"},
                            {"pattern", {{"Regex", "\\w+"}}},
                            {"behavior", "Isolated"},
                            {"invert", false}};
  ExpectRejected(regex, {"pre_tokenizer.pattern"});
}

TEST(Tokenizer, RejectsMalformedFiles) {
  auto not_json = Tokenizer::FromJson("{", "bad/tokenizer.json");
  ASSERT_FALSE(not_json.ok());
  EXPECT_THAT(not_json.status().message(), HasSubstr("bad/tokenizer.json"));
  ExpectRejected(Json::array(), {"not a JSON object"});
  ExpectRejected(Json::object(), {"model"});

  Json no_vocab = ByteLevelWithMerges({});
  no_vocab["model"].erase("vocab");
  ExpectRejected(no_vocab, {"model.vocab"});
  Json bad_id = ByteLevelWithMerges({});
  bad_id["model"]["vocab"]["x y"] = -3;
  ExpectRejected(bad_id, {"model.vocab[\"x y\"]"});
  Json reused = ByteLevelWithMerges({});
  reused["model"]["vocab"]["zz"] = 5;
  ExpectRejected(reused, {"reuses id 5"});
  Json merge = ByteLevelWithMerges({});
  merge["model"]["merges"].push_back("q zz");
  ExpectRejected(merge, {"model.merges[0]", "not in the vocab"});
  Json merge_shape = ByteLevelWithMerges({});
  merge_shape["model"]["merges"].push_back(7);
  ExpectRejected(merge_shape, {"model.merges[0]"});
  Json missing_byte = ByteLevelWithMerges({});
  missing_byte["model"]["vocab"].erase("Ġ");
  ExpectRejected(missing_byte, {"model.vocab", "byte 32"});
  Json added = ByteLevelWithMerges({});
  added["added_tokens"][0]["id"] = 97;
  ExpectRejected(added, {"added_tokens[0]", "reuses id 97"});
  Json wrong_type = ByteLevelWithMerges({});
  wrong_type["pre_tokenizer"]["add_prefix_space"] = "yes";
  ExpectRejected(wrong_type, {"pre_tokenizer.add_prefix_space"});
  Json typed = Llama2Style();
  typed["normalizer"]["normalizers"][0]["prepend"] = 5;
  ExpectRejected(typed, {});  // a field of the wrong type is an error, not an exception

  Json no_fallback = Llama2Style();
  no_fallback["model"]["unk_token"] = nullptr;
  no_fallback["model"]["vocab"].erase("<0x41>");
  ExpectRejected(no_fallback, {"<0x41>"});
  Json neither = Llama2Style();
  neither["normalizer"] = nullptr;
  ExpectRejected(neither, {"neither ByteLevel nor Metaspace"});
}

}  // namespace
}  // namespace graft
