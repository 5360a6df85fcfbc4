#include "serve/tar_archive.h"

#include <cstdio>
#include <cstring>

namespace graft::serve {
namespace {

constexpr char kZeros[2 * TarArchive::kBlock] = {};

// An octal field of `width` bytes: digits, then NUL.
void Octal(char* field, size_t width, uint64_t value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));
}

uint64_t PaddingSize(uint64_t size) {
  return (TarArchive::kBlock - size % TarArchive::kBlock) % TarArchive::kBlock;
}

}  // namespace

Result<std::string> TarArchive::Header(std::string_view path, uint64_t size) {
  if (path.empty() || path.front() == '/' || path.find("..") != std::string_view::npos) {
    return InvalidInput("unsafe path in archive: " + std::string(path));
  }
  // ustar's size field holds 11 octal digits.
  if (size >= (uint64_t{1} << 33)) {
    return InvalidInput("file too large for a ustar archive: " + std::string(path));
  }
  std::string_view prefix, name = path;
  if (name.size() > 100) {
    const size_t slash = path.rfind('/', 155);
    if (slash == std::string_view::npos || path.size() - slash - 1 > 100) {
      return InvalidInput("path too long for a tar archive: " + std::string(path));
    }
    prefix = path.substr(0, slash);
    name = path.substr(slash + 1);
  }
  std::string header(kBlock, '\0');
  char* h = header.data();
  std::memcpy(h, name.data(), name.size());
  Octal(h + 100, 8, 0644);
  Octal(h + 108, 8, 0);
  Octal(h + 116, 8, 0);
  Octal(h + 124, 12, size);
  Octal(h + 136, 12, 0);
  h[156] = '0';
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  std::memcpy(h + 345, prefix.data(), prefix.size());
  std::memset(h + 148, ' ', 8);
  unsigned checksum = 0;
  for (char c : header) checksum += static_cast<unsigned char>(c);
  std::snprintf(h + 148, 8, "%06o", checksum);
  return header;
}

std::string_view TarArchive::Padding(uint64_t size) {
  return std::string_view(kZeros, PaddingSize(size));
}

std::string_view TarArchive::End() { return std::string_view(kZeros, sizeof kZeros); }

uint64_t TarArchive::EntrySize(uint64_t size) { return kBlock + size + PaddingSize(size); }

}  // namespace graft::serve
