#include "serve/tar_archive.h"

#include <cstdio>
#include <cstring>

namespace graft::serve {
namespace {

constexpr size_t kBlock = 512;

// An octal field of `width` bytes: digits, then NUL.
void Octal(char* field, size_t width, uint64_t value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));
}

}  // namespace

Status TarArchive::Add(std::string_view path, std::string_view content) {
  if (path.empty() || path.front() == '/' || path.find("..") != std::string_view::npos) {
    return InvalidInput("unsafe path in archive: " + std::string(path));
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
  char header[kBlock] = {};
  std::memcpy(header, name.data(), name.size());
  Octal(header + 100, 8, 0644);
  Octal(header + 108, 8, 0);
  Octal(header + 116, 8, 0);
  Octal(header + 124, 12, content.size());
  Octal(header + 136, 12, 0);
  header[156] = '0';
  std::memcpy(header + 257, "ustar", 6);
  std::memcpy(header + 263, "00", 2);
  std::memcpy(header + 345, prefix.data(), prefix.size());
  std::memset(header + 148, ' ', 8);
  unsigned checksum = 0;
  for (char c : header) checksum += static_cast<unsigned char>(c);
  std::snprintf(header + 148, 8, "%06o", checksum);
  data_.append(header, kBlock);
  data_.append(content);
  data_.append((kBlock - content.size() % kBlock) % kBlock, '\0');
  return Status::Ok();
}

std::string TarArchive::Finish() && {
  data_.append(2 * kBlock, '\0');
  return std::move(data_);
}

}  // namespace graft::serve
