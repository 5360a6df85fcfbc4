// GPT-2's byte-to-unicode alphabet: the printable character that stands for each byte.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace graft::tokenizer {

struct ByteAlphabet {
  std::array<std::string, 256> byte_to_char;  // UTF-8 of the character for each byte
  std::unordered_map<char32_t, uint8_t> char_to_byte;

  // The one alphabet (built once, immutable).
  static const ByteAlphabet& Get();

 private:
  ByteAlphabet();
};

}  // namespace graft::tokenizer
