// UTF-8 encoding and decoding of single code points, tolerant of invalid bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace graft::tokenizer {

// What DecodeUtf8 reports for a byte that does not start a valid sequence.
inline constexpr char32_t kInvalidCodePoint = 0xFFFFFFFF;

// The UTF-8 bytes of `cp` (a Unicode scalar value).
std::string EncodeUtf8(char32_t cp);

// Decodes the code point at s[i]; returns its length in bytes. An invalid, overlong, surrogate or
// truncated sequence is one byte long with kInvalidCodePoint.
size_t DecodeUtf8(std::string_view s, size_t i, char32_t& cp);

// The length of the longest prefix of `s` that is valid UTF-8.
size_t ValidUtf8Prefix(std::string_view s);

}  // namespace graft::tokenizer
