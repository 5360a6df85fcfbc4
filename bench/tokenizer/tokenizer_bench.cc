// Encode throughput of graft's tokenizer on multi-script text, for bench/tokenizer/run. The same
// source builds against the current tokenizer and, in the run script, against the one before.
//   graft_tokenizer_bench MIB ROUNDS   prints one line per tokenizer: its name and MB/s (best
//   round)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/json.h"
#include "models/tokenizer/tokenizer.h"

namespace {

// Prose in many scripts (English first, as training text mostly is), repeated to the size.
std::string Text(size_t bytes) {
  const char* parts[] = {
      "The quick brown fox jumps over the lazy dog. It's 2024, and we've got 1234567 reasons! ",
      "Café naïve résumé, Ærøskøbing. ",
      "Ελληνικά κείμενα: ἀρχή! ",
      "Привет, мир! Ёжик в тумане. ",
      "مرحبا بالعالم ١٢٣٤ ",
      "नमस्ते दुनिया १२३ ",
      "你好，世界。東京 ",
      "안녕하세요 세계 ",
      "👩‍💻 works 👍🏽!\n\n    indented code();\n",
  };
  std::string text;
  while (text.size() < bytes) {
    for (const char* p : parts) text += p;
  }
  return text;
}

graft::Json Config(const char* which) {
  graft::Json json =
      *graft::ParseJson(graft::tokenizer::MakeByteLevelTokenizerJson(), "byte-level");
  std::string name = which;
  if (name == "llama3") {
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
  } else if (name == "gpt2+nfc") {
    json["normalizer"] = {{"type", "NFC"}};
  }
  return json;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: graft_tokenizer_bench MIB ROUNDS\n");
    return 2;
  }
  const std::string text = Text(static_cast<size_t>(std::atof(argv[1]) * (1 << 20)));
  const int rounds = std::atoi(argv[2]);
  for (const char* which : {"gpt2", "llama3", "gpt2+nfc"}) {
    auto tokenizer = graft::tokenizer::Tokenizer::FromJson(Config(which).dump(), which);
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "%s: %s\n", which, tokenizer.status().ToString().c_str());
      return 1;
    }
    if (tokenizer->Encode(text, false).empty()) return 1;  // warm-up: page faults, caches
    double best = 1e30;
    for (int r = 0; r < rounds; ++r) {
      auto start = std::chrono::steady_clock::now();
      if (tokenizer->Encode(text, false).empty()) return 1;
      best = std::min(
          best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::printf("%s %.2f\n", which, text.size() / best / 1e6);
  }
  return 0;
}
