// libFuzzer entry for models/tokenizer: a hostile tokenizer.json must load or fail with a Status,
// and the byte-level tokenizers must round-trip any bytes through Encode and Decode.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "models/tokenizer.h"

namespace {

// graft's byte-level tokenizer with a few merges, split by the GPT-2 or the Llama 3 regex.
graft::Tokenizer MakeByteLevel(bool llama3) {
  graft::Json json = *graft::ParseJson(graft::MakeByteLevelTokenizerJson(), "byte-level");
  int next = 257;
  for (const char* merge : {"h e", "l l", "Ġ t", "e r", "Ġt he", "1 2"}) {
    std::string_view m(merge);
    std::string merged =
        std::string(m.substr(0, m.find(' '))) + std::string(m.substr(m.find(' ') + 1));
    json["model"]["vocab"][merged] = next++;
    json["model"]["merges"].push_back(merge);
  }
  if (llama3) {
    json["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern",
            {{"Regex",
              R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
  }
  auto tokenizer = graft::Tokenizer::FromJson(json.dump(), "fuzz");
  if (!tokenizer.ok()) std::abort();
  return std::move(tokenizer).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const graft::Tokenizer gpt2 = MakeByteLevel(false);
  static const graft::Tokenizer llama3 = MakeByteLevel(true);
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {  // the rest is text
    for (const graft::Tokenizer* t : {&gpt2, &llama3}) {
      auto text = t->Decode(t->Encode(input, true), false);
      if (!text.ok() || *text != input) std::abort();
    }
    return 0;
  }
  auto tokenizer = graft::Tokenizer::FromJson(input, "fuzz.json");  // the rest is a tokenizer.json
  if (tokenizer.ok()) {
    auto ids = tokenizer->Encode("Hello wörld <|endoftext|> 12345 \xff\n\n", true);
    if (!tokenizer->Decode(ids, false).ok()) std::abort();
  }
  return 0;
}
