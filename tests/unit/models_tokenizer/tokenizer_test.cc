#include "models/tokenizer/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "core/file_util.h"
#include "core/json.h"

namespace graft::tokenizer {
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

const std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// graft's byte-level tokenizer.json with ignore_merges, `words` (UTF-8) as tokens 257, 258, ...
// (those not already tokens), split by `regex` (a Split pre-tokenizer before ByteLevel).
Json ByteLevelWords(std::string_view regex, const std::vector<std::string>& words) {
  Json json = ByteLevelWithMerges({});
  json["model"]["ignore_merges"] = true;
  const Tokenizer bytes = MustLoad(json);
  int next = 257;
  for (const std::string& word : words) {
    std::string token;
    for (char c : word) token += *bytes.IdToToken(static_cast<uint8_t>(c));
    if (!json["model"]["vocab"].contains(token)) json["model"]["vocab"][token] = next++;
  }
  json["pre_tokenizer"] = {{"type", "Sequence"},
                           {"pretokenizers",
                            {{{"type", "Split"},
                              {"pattern", {{"Regex", regex}}},
                              {"behavior", "Isolated"},
                              {"invert", false}},
                             {{"type", "ByteLevel"},
                              {"add_prefix_space", false},
                              {"trim_offsets", true},
                              {"use_regex", false}}}}};
  return json;
}

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
  Json json =
      ByteLevelWords(kLlama3Regex, {"123", "45", "'S", " world", "  \n\n", " !!\n", ",world"});
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

// ---- Many scripts, against Hugging Face's reference ----
//
// The expected ids below were computed by Hugging Face's JavaScript tokenizers (npm
// @huggingface/tokenizers 0.2.0, which shares no code with graft) on the same tokenizer.json,
// with reference/reference_ids.mjs (its header says how to re-run it). The vocabulary holds every
// piece that reference cuts the samples into, so each piece is one token and any other cut
// changes the ids.

const std::vector<std::string> kReferenceWords = {"Café",
                                                  " naïve",
                                                  " résumé",
                                                  ",",
                                                  " Ærøskøbing",
                                                  "Ελληνικά",
                                                  " κείμενα",
                                                  ":",
                                                  " ἀρχή",
                                                  "!",
                                                  "Привет",
                                                  " мир",
                                                  " Ёжик",
                                                  " в",
                                                  " тумане",
                                                  ".",
                                                  "مرحبا",
                                                  " بالعالم",
                                                  " ١٢٣٤",
                                                  "ש",
                                                  "\u05b8\u05c1",
                                                  "לו",
                                                  "\u05b9",
                                                  "ם",
                                                  " עולם",
                                                  "नमस",
                                                  "\u094d",
                                                  "त",
                                                  "\u0947",
                                                  " द",
                                                  "\u0941",
                                                  "न",
                                                  "\u093f",
                                                  "य",
                                                  "\u093e",
                                                  " १२३",
                                                  "สว",
                                                  "\u0e31",
                                                  "สด",
                                                  "\u0e35",
                                                  "ชาวโลก",
                                                  "你好",
                                                  "，",
                                                  "世界",
                                                  "。",
                                                  "東京",
                                                  "안녕하세요",
                                                  " 세계",
                                                  "ሰላም",
                                                  " ዓለም",
                                                  "வணக",
                                                  "\u0bcd",
                                                  "கம",
                                                  " உலகம",
                                                  "გამარჯობა",
                                                  " Բարեւ",
                                                  "👩\u200d💻",
                                                  " works",
                                                  " 👍🏽!",
                                                  "e",
                                                  "\u0301",
                                                  " vs",
                                                  " é",
                                                  "ＡＢＣ",
                                                  "１２３",
                                                  " and",
                                                  " Ⅻ",
                                                  " ½",
                                                  "tabs",
                                                  "\t",
                                                  "and",
                                                  "\u00a0",
                                                  "nbsp",
                                                  "\u2003",
                                                  "em",
                                                  "\u3000",
                                                  "ideographic",
                                                  "\n\n ",
                                                  " end",
                                                  " ",
                                                  "١٢٣",
                                                  "٤",
                                                  "\u05b9ם",
                                                  "\u094dत",
                                                  "\u0941न",
                                                  "\u093fय",
                                                  "१२३",
                                                  "\u0e31สด",
                                                  "\u0e35ชาวโลก",
                                                  "，世界",
                                                  "。東京",
                                                  "\u0bcdகம",
                                                  "Ⅻ",
                                                  "½",
                                                  "\tand",
                                                  "\u00a0nbsp",
                                                  "\u2003em",
                                                  "\u3000ideographic",
                                                  "\n\n"};

struct ReferenceCase {
  std::string text;
  std::vector<int32_t> ids;
};

void ExpectReferenceIds(const Tokenizer& t, const std::vector<ReferenceCase>& cases) {
  for (const ReferenceCase& c : cases) {
    EXPECT_EQ(t.Encode(c.text, false), c.ids) << c.text;
    EXPECT_EQ(*t.Decode(t.Encode(c.text, false), false), c.text);
  }
}

TEST(MultiScript, Gpt2RegexMatchesTheReference) {
  ExpectReferenceIds(MustLoad(ByteLevelWords(kGpt2Regex, kReferenceWords)),
                     {
                         {"Café naïve résumé, Ærøskøbing", {257, 258, 259, 44, 260}},
                         {"Ελληνικά κείμενα: ἀρχή!", {261, 262, 58, 263, 33}},
                         {"Привет, мир! Ёжик в тумане.", {264, 44, 265, 33, 266, 267, 268, 46}},
                         {"مرحبا بالعالم ١٢٣٤", {269, 270, 271}},
                         {"ש\u05b8\u05c1לו\u05b9ם עולם", {272, 273, 274, 275, 276, 277}},
                         {"नमस\u094dत\u0947 द\u0941न\u093fय\u093e १२३",
                          {278, 279, 280, 281, 282, 283, 284, 285, 286, 287, 288}},
                         {"สว\u0e31สด\u0e35ชาวโลก", {289, 290, 291, 292, 293}},
                         {"你好，世界。東京", {294, 295, 296, 297, 298}},
                         {"안녕하세요 세계", {299, 300}},
                         {"ሰላም ዓለም", {301, 302}},
                         {"வணக\u0bcdகம\u0bcd உலகம\u0bcd", {303, 304, 305, 304, 306, 304}},
                         {"გამარჯობა Բարեւ", {307, 308}},
                         {"👩\u200d💻 works 👍🏽!", {309, 310, 311}},
                         {"e\u0301 vs é", {101, 312, 313, 314}},
                         {"ＡＢＣ１２３ and Ⅻ ½", {315, 316, 317, 318, 319}},
                         {"tabs\tand\u00a0nbsp\u2003em\u3000ideographic\n\n  end",
                          {320, 9, 321, 322, 323, 324, 325, 326, 327, 328, 329}},
                     });
}

TEST(MultiScript, Llama3RegexMatchesTheReference) {
  ExpectReferenceIds(MustLoad(ByteLevelWords(kLlama3Regex, kReferenceWords)),
                     {
                         {"Café naïve résumé, Ærøskøbing", {257, 258, 259, 44, 260}},
                         {"Ελληνικά κείμενα: ἀρχή!", {261, 262, 58, 263, 33}},
                         {"Привет, мир! Ёжик в тумане.", {264, 44, 265, 33, 266, 267, 268, 46}},
                         {"مرحبا بالعالم ١٢٣٤", {269, 270, 32, 330, 331}},
                         {"ש\u05b8\u05c1לו\u05b9ם עולם", {272, 273, 274, 332, 277}},
                         {"नमस\u094dत\u0947 द\u0941न\u093fय\u093e १२३",
                          {278, 333, 281, 282, 334, 335, 287, 32, 336}},
                         {"สว\u0e31สด\u0e35ชาวโลก", {289, 337, 338}},
                         {"你好，世界。東京", {294, 339, 340}},
                         {"안녕하세요 세계", {299, 300}},
                         {"ሰላም ዓለም", {301, 302}},
                         {"வணக\u0bcdகம\u0bcd உலகம\u0bcd", {303, 341, 304, 306, 304}},
                         {"გამარჯობა Բարեւ", {307, 308}},
                         {"👩\u200d💻 works 👍🏽!", {309, 310, 311}},
                         {"e\u0301 vs é", {101, 312, 313, 314}},
                         {"ＡＢＣ１２３ and Ⅻ ½", {315, 316, 317, 32, 342, 32, 343}},
                         {"tabs\tand\u00a0nbsp\u2003em\u3000ideographic\n\n  end",
                          {320, 344, 345, 346, 347, 348, 32, 329}},
                     });
}

// ---- Normalizers (ICU) ----
//
// With graft's byte-level tokenizer (no merges, id = byte value) the ids are the UTF-8 bytes of
// the normalised text. Each expectation is the normal form given by the Unicode Character
// Database's decomposition mappings, written out by hand: U+FF21..FF23 and U+FF11..FF13 are
// <wide> A B C 1 2 3; U+FB01 is <compat> f i; U+2460 is <circle> 1; e + U+0301 composes to U+00E9
// (C3 A9); U+212B ANGSTROM SIGN is canonically U+00C5 (C3 85); U+D55C is the Hangul syllable
// U+1112 U+1161 U+11AB (E1 84 92, E1 85 A1, E1 86 AB); U+00BD is <fraction> 1 U+2044 2.

std::vector<int32_t> Bytes(std::string_view text) {
  return std::vector<int32_t>(reinterpret_cast<const uint8_t*>(text.data()),
                              reinterpret_cast<const uint8_t*>(text.data()) + text.size());
}

Tokenizer WithNormalizer(const char* type) {
  Json json = ByteLevelWithMerges({});
  json["normalizer"] = {{"type", type}};
  return MustLoad(json);
}

TEST(Normalizer, NfcComposesAndKeepsCompatibilityForms) {
  Tokenizer t = WithNormalizer("NFC");
  EXPECT_EQ(t.Encode("e\xcc\x81", false), Bytes("\xc3\xa9"));         // e + U+0301 -> é
  EXPECT_EQ(t.Encode("\xc3\xa9", false), Bytes("\xc3\xa9"));          // already NFC
  EXPECT_EQ(t.Encode("\xe2\x84\xab", false), Bytes("\xc3\x85"));      // U+212B -> U+00C5
  EXPECT_EQ(t.Encode("\xef\xbc\xa1", false), Bytes("\xef\xbc\xa1"));  // Ａ stays (compatibility)
  EXPECT_EQ(t.Encode("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab", false), Bytes("\xed\x95\x9c"));  // 한
}

TEST(Normalizer, NfkcFoldsFullWidthLigaturesAndCircledForms) {
  Tokenizer t = WithNormalizer("NFKC");
  EXPECT_EQ(
      t.Encode("\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93", false),
      Bytes("ABC123"));
  EXPECT_EQ(t.Encode("\xef\xac\x81le", false), Bytes("file"));  // ﬁle
  EXPECT_EQ(t.Encode("\xe2\x91\xa0", false), Bytes("1"));       // ①
  EXPECT_EQ(t.Encode("e\xcc\x81", false), Bytes("\xc3\xa9"));
  EXPECT_EQ(t.Encode("\xc2\xbd", false), Bytes("1\xe2\x81\x84"
                                               "2"));  // ½
}

TEST(Normalizer, NfdAndNfkdDecompose) {
  EXPECT_EQ(WithNormalizer("NFD").Encode("\xc3\xa9", false), Bytes("e\xcc\x81"));
  EXPECT_EQ(WithNormalizer("NFD").Encode("\xed\x95\x9c", false),
            Bytes("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"));
  EXPECT_EQ(WithNormalizer("NFKD").Encode("\xef\xac\x81\xc3\xa9", false), Bytes("fie\xcc\x81"));
}

TEST(Normalizer, KeepsInvalidBytesAndAddedTokens) {
  Tokenizer t = WithNormalizer("NFKC");
  // Invalid UTF-8 passes through byte for byte; the valid text around it is normalised.
  EXPECT_EQ(t.Encode("\xef\xbc\xa1\xff\xef\xbc\xa1", false), Bytes("A\xff"
                                                                   "A"));
  EXPECT_EQ(t.Encode("\xc3", false), Bytes("\xc3"));  // a truncated sequence
  // Added tokens are matched before normalisation and kept as they are.
  EXPECT_EQ(t.Encode("\xef\xbc\xa1<|endoftext|>", false), (std::vector<int32_t>{'A', 256}));
}

// ---- Split behaviours and the other pre-tokenizers ----
//
// Each word below is a token (ignore_merges), so the ids show the cut. The Split expectations
// are Hugging Face's documented example for SplitDelimiterBehavior ("the-final--countdown"
// split at "-"); the others are derived by hand from the rules their comments state.

Json ByteLevelPreTokenizedBy(const Json& pre_tokenizer, const std::vector<std::string>& words) {
  Json json = ByteLevelWords(kGpt2Regex, words);
  json["pre_tokenizer"]["pretokenizers"][0] = pre_tokenizer;
  return json;
}

// The words of `text` as `t` cuts them, read back from the one-token-per-word ids.
std::vector<std::string> Words(const Tokenizer& t, std::string_view text) {
  std::vector<std::string> words;
  for (int32_t id : t.Encode(text, false))
    words.push_back(*t.Decode(std::vector<int32_t>{id}, false));
  return words;
}

TEST(PreTokenizer, SplitBehavioursFollowHuggingFace) {
  const std::vector<std::string> pieces = {"the",  "final",  "countdown", "-",         "--",
                                           "the-", "final-", "-final",    "-countdown"};
  auto split = [&](const char* behavior, bool invert = false) {
    Json pre = {{"type", "Split"},
                {"pattern", {{"String", "-"}}},
                {"behavior", behavior},
                {"invert", invert}};
    return Words(MustLoad(ByteLevelPreTokenizedBy(pre, pieces)), "the-final--countdown");
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(split("Removed"), (V{"the", "final", "countdown"}));
  EXPECT_EQ(split("Isolated"), (V{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split("MergedWithPrevious"), (V{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split("MergedWithNext"), (V{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split("Contiguous"), (V{"the", "-", "final", "--", "countdown"}));
  // Inverted, the words are the matches: removing the rest leaves the dashes.
  EXPECT_EQ(split("Removed", true), (V{"-", "-", "-"}));
}

TEST(PreTokenizer, DigitsPunctuationAndWhitespace) {
  using V = std::vector<std::string>;
  const std::vector<std::string> pieces = {"abc",
                                           "123",
                                           "def",
                                           "45",
                                           "\xd9\xa1\xd9\xa2",  // ١٢
                                           "hi",
                                           " there",
                                           "Hello",
                                           "w\xc3\xb6rld",
                                           "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d"
                                           "\xe0\xa4\xa4\xe0\xa5\x87",  // नमस्ते
                                           "a",
                                           "b",
                                           "c"};
  auto words = [&](const Json& pre, std::string_view text) {
    return Words(MustLoad(ByteLevelPreTokenizedBy(pre, pieces)), text);
  };
  // Digits: \p{N} characters, each alone or in runs (Arabic-Indic digits are numbers too).
  EXPECT_EQ(words({{"type", "Digits"}, {"individual_digits", true}}, "abc123def45"),
            (V{"abc", "1", "2", "3", "def", "4", "5"}));
  EXPECT_EQ(
      words({{"type", "Digits"}, {"individual_digits", false}}, "abc123def45x\xd9\xa1\xd9\xa2"),
      (V{"abc", "123", "def", "45", "x", "\xd9\xa1\xd9\xa2"}));
  // Punctuation: each ASCII punctuation character or \p{P} character alone.
  EXPECT_EQ(words({{"type", "Punctuation"}, {"behavior", "Isolated"}}, "hi!?, there"),
            (V{"hi", "!", "?", ",", " there"}));
  // Whitespace: \w+|[^\w\s]+ with Oniguruma's \w, which holds marks, so नमस्ते stays whole.
  EXPECT_EQ(words({{"type", "Whitespace"}},
                  "Hello, w\xc3\xb6rld! \xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4"
                  "\xa4\xe0\xa5\x87"),
            (V{"Hello", ",", "w\xc3\xb6rld", "!", pieces[9]}));
  // WhitespaceSplit: the runs between white space (here a tab and a no-break space).
  EXPECT_EQ(words({{"type", "WhitespaceSplit"}},
                  "a  b\tc\xc2\xa0"
                  "a"),
            (V{"a", "b", "c", "a"}));
}

TEST(PreTokenizer, RefusesBadAndRunawayPatterns) {
  auto with_regex = [](std::string_view regex) {
    Json json = ByteLevelWords(regex, {});
    return json;
  };
  ExpectRejected(with_regex("("),
                 {"pre_tokenizer.pretokenizers[0].pattern", "does not compile at byte 1"});
  ExpectRejected(with_regex("\\C"), {"pre_tokenizer.pretokenizers[0].pattern"});
  // Nested quantifiers backtrack exponentially on a run of one character: refused at load.
  ExpectRejected(with_regex("(a+)+$"), {"pre_tokenizer.pretokenizers[0].pattern",
                                        "backtracks catastrophically", "match limit"});
  ExpectRejected(with_regex("(\\s*)*\\d"), {"backtracks catastrophically"});
  ExpectRejected(with_regex(std::string(70000, 'a')), {"longer than"});
  Json behavior = ByteLevelWords(kGpt2Regex, {});
  behavior["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Sideways";
  ExpectRejected(behavior, {"pre_tokenizer.pretokenizers[0].behavior", "Sideways"});
  Json pattern = ByteLevelWords(kGpt2Regex, {});
  pattern["pre_tokenizer"]["pretokenizers"][0]["pattern"] = {{"Glob", "*"}};
  ExpectRejected(pattern, {"pre_tokenizer.pretokenizers[0].pattern"});
}

TEST(PreTokenizer, AnyPatternKeepsEveryByte) {
  // Invalid UTF-8 never matches a pattern: it stays in the unmatched pieces, so nothing is lost.
  Tokenizer t = MustLoad(ByteLevelWords("\\p{L}+", {}));
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string bytes = RandomBytes(rng, 100);
    EXPECT_EQ(*t.Decode(t.Encode(bytes, false), false), bytes);
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
}  // namespace graft::tokenizer
