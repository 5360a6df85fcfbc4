// libFuzzer entry for models/tokenizer: a hostile tokenizer.json must load or fail with a Status,
// the byte-level tokenizers must round-trip any bytes through Encode and Decode, and so must a
// tokenizer split by any pattern that compiles (PCRE2 under its limits, behavior Isolated).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "models/tokenizer/tokenizer.h"

namespace {

// graft's byte-level tokenizer.json with a Split pre-tokenizer by `regex` before ByteLevel.
graft::Json SplitBy(std::string_view regex, graft::Json json) {
  json["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"},
         {"pattern", {{"Regex", regex}}},
         {"behavior", "Isolated"},
         {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
  return json;
}

// graft's byte-level tokenizer with a few merges, split by the GPT-2 or the Llama 3 regex.
graft::tokenizer::Tokenizer MakeByteLevel(bool llama3) {
  graft::Json json =
      *graft::ParseJson(graft::tokenizer::MakeByteLevelTokenizerJson(), "byte-level");
  int next = 257;
  for (const char* merge : {"h e", "l l", "Ġ t", "e r", "Ġt he", "1 2"}) {
    std::string_view m(merge);
    std::string merged =
        std::string(m.substr(0, m.find(' '))) + std::string(m.substr(m.find(' ') + 1));
    json["model"]["vocab"][merged] = next++;
    json["model"]["merges"].push_back(merge);
  }
  if (llama3) {
    json = SplitBy(
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
        std::move(json));
  }
  auto tokenizer = graft::tokenizer::Tokenizer::FromJson(json.dump(), "fuzz");
  if (!tokenizer.ok()) std::abort();
  return std::move(tokenizer).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const graft::tokenizer::Tokenizer gpt2 = MakeByteLevel(false);
  static const graft::tokenizer::Tokenizer llama3 = MakeByteLevel(true);
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {  // the rest is text
    for (const graft::tokenizer::Tokenizer* t : {&gpt2, &llama3}) {
      auto text = t->Decode(t->Encode(input, true), false);
      if (!text.ok() || *text != input) std::abort();
    }
    return 0;
  }
  if (data[0] & 2) {  // the rest is a pre-tokenizer pattern
    graft::Json json =
        *graft::ParseJson(graft::tokenizer::MakeByteLevelTokenizerJson(), "byte-level");
    // JSON text is UTF-8: invalid bytes in the pattern become U+FFFD, as a file would need.
    const std::string text_json =
        SplitBy(input, std::move(json)).dump(-1, ' ', false, graft::Json::error_handler_t::replace);
    auto split = graft::tokenizer::Tokenizer::FromJson(text_json, "fuzz");
    if (split.ok()) {
      const std::string_view text =
          "It's 12345 w\xc3\xb6rds \xce\xb5\xce\xbb \xe4\xbd\xa0\xe5\xa5\xbd\n\n  \xff!";
      auto decoded = split->Decode(split->Encode(text, false), false);
      if (!decoded.ok() || *decoded != text) std::abort();
    }
    return 0;
  }
  auto tokenizer =
      graft::tokenizer::Tokenizer::FromJson(input, "fuzz.json");  // the rest is a tokenizer.json
  if (tokenizer.ok()) {
    auto ids = tokenizer->Encode("Hello wörld <|endoftext|> 12345 \xff\n\n", true);
    if (!tokenizer->Decode(ids, false).ok()) std::abort();
  }
  return 0;
}
