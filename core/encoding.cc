#include "core/encoding.h"

#include <array>

namespace graft {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Base64EncodeWith(std::string_view bytes, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

}  // namespace

std::string HexEncode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += kHexDigits[b >> 4];
    out += kHexDigits[b & 15];
  }
  return out;
}

std::string HexEncode(std::string_view bytes) { return HexEncode(AsBytes(bytes)); }

Result<std::vector<uint8_t>> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return InvalidInput("hex string has an odd number of digits");
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return InvalidInput("invalid hex digit at offset " +
                          std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  return Base64EncodeWith(bytes, kBase64Std, true);
}

std::string Base64UrlEncode(std::string_view bytes) {
  return Base64EncodeWith(bytes, kBase64Url, false);
}

Result<std::string> Base64Decode(std::string_view text) {
  // Strip padding (at most two '=' at the very end).
  size_t padding = 0;
  while (!text.empty() && text.back() == '=' && padding < 3) {
    text.remove_suffix(1);
    ++padding;
  }
  if (padding > 2) return InvalidInput("base64: too much padding");
  if (text.size() % 4 == 1) return InvalidInput("base64: impossible length");
  if (padding > 0 && (text.size() + padding) % 4 != 0) {
    return InvalidInput("base64: padding does not complete a 4-character group");
  }
  std::array<int8_t, 256> value;
  value.fill(-1);
  for (int i = 0; i < 64; ++i) value[static_cast<uint8_t>(kBase64Std[i])] = static_cast<int8_t>(i);
  bool saw_std = false, saw_url = false;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    int v;
    if (c == '-' || c == '_') {
      saw_url = true;
      v = c == '-' ? 62 : 63;
    } else {
      if (c == '+' || c == '/') saw_std = true;
      v = value[static_cast<uint8_t>(c)];
    }
    if (v < 0) return InvalidInput("base64: invalid character at offset " + std::to_string(i));
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (saw_std && saw_url) return InvalidInput("base64: mixes the standard and URL-safe alphabets");
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return InvalidInput("base64: non-zero trailing bits");
  }
  return out;
}

}  // namespace graft
