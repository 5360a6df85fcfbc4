// SHA-256 digests (OpenSSL EVP), streaming over buffers and files.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace graft {

using Digest = std::array<uint8_t, 32>;

std::string DigestHex(const Digest& digest);
// Parses 64 hex digits, with or without a "sha256:" prefix.
Result<Digest> ParseDigestHex(std::string_view text);

// Incremental SHA-256. Not copyable; Finish() may be called once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::span<const uint8_t> bytes);
  void Update(std::string_view bytes);
  Digest Finish();

  static Digest Of(std::string_view bytes);
  static Digest Of(std::span<const uint8_t> bytes);

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// Hex SHA-256 of a buffer.
std::string Sha256Hex(std::string_view bytes);
// Streams a regular file through SHA-256.
Result<Digest> Sha256File(const std::filesystem::path& path);

}  // namespace graft
