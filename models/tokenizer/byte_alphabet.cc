#include "models/tokenizer/byte_alphabet.h"

#include "models/tokenizer/utf8.h"

namespace graft::tokenizer {

ByteAlphabet::ByteAlphabet() {
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    char32_t cp = printable ? static_cast<char32_t>(b) : next++;
    byte_to_char[b] = EncodeUtf8(cp);
    char_to_byte[cp] = static_cast<uint8_t>(b);
  }
}

const ByteAlphabet& ByteAlphabet::Get() {
  static const ByteAlphabet alphabet;
  return alphabet;
}

}  // namespace graft::tokenizer
