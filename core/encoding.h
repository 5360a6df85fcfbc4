// Hex and base64 (standard and URL-safe) encoders and strict decoders.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace graft {

std::string HexEncode(std::span<const uint8_t> bytes);
std::string HexEncode(std::string_view bytes);
// Accepts upper or lower case; rejects odd lengths and non-hex characters.
Result<std::vector<uint8_t>> HexDecode(std::string_view hex);

// RFC 4648 section 4, with padding.
std::string Base64Encode(std::string_view bytes);
// RFC 4648 section 5 (URL and file name safe), without padding.
std::string Base64UrlEncode(std::string_view bytes);
// Decodes standard or URL-safe base64, padded or not (DSSE allows either). Rejects mixed
// alphabets, characters outside them, bad padding and non-zero trailing bits.
Result<std::string> Base64Decode(std::string_view text);

inline std::string_view AsChars(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline std::span<const uint8_t> AsBytes(std::string_view chars) {
  return {reinterpret_cast<const uint8_t*>(chars.data()), chars.size()};
}

}  // namespace graft
