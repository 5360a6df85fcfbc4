#include "core/sha256.h"

#include <openssl/evp.h>

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/encoding.h"

namespace graft {

struct Sha256::Context {
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx{EVP_MD_CTX_new()};
};

Sha256::Sha256() : context_(std::make_unique<Context>()) {
  EVP_DigestInit_ex(context_->ctx.get(), EVP_sha256(), nullptr);
}

Sha256::~Sha256() = default;

void Sha256::Update(std::span<const uint8_t> bytes) {
  EVP_DigestUpdate(context_->ctx.get(), bytes.data(), bytes.size());
}

void Sha256::Update(std::string_view bytes) {
  EVP_DigestUpdate(context_->ctx.get(), bytes.data(), bytes.size());
}

Digest Sha256::Finish() {
  Digest digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_->ctx.get(), digest.data(), &length);
  return digest;
}

Digest Sha256::Of(std::string_view bytes) {
  Sha256 hasher;
  hasher.Update(bytes);
  return hasher.Finish();
}

Digest Sha256::Of(std::span<const uint8_t> bytes) {
  Sha256 hasher;
  hasher.Update(bytes);
  return hasher.Finish();
}

std::string DigestHex(const Digest& digest) { return HexEncode(digest); }

Result<Digest> ParseDigestHex(std::string_view text) {
  if (text.starts_with("sha256:")) text.remove_prefix(7);
  if (text.size() != 64) {
    return InvalidInput("a SHA-256 digest has 64 hex digits, got " + std::to_string(text.size()) +
                        " characters");
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, HexDecode(text));
  Digest digest{};
  std::memcpy(digest.data(), bytes.data(), digest.size());
  return digest;
}

std::string Sha256Hex(std::string_view bytes) { return DigestHex(Sha256::Of(bytes)); }

Result<Digest> Sha256File(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + path.string() + ": " + std::strerror(errno));
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Sha256 hasher;
  std::vector<uint8_t> buffer(1 << 20);
  Status status;
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      status = IoError("cannot read " + path.string() + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) break;
    hasher.Update(std::span<const uint8_t>(buffer.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  if (!status.ok()) return status;
  return hasher.Finish();
}

}  // namespace graft
