// TarArchive: the blocks of a POSIX ustar archive of regular files, for writing one as a stream
// (an adapter export): each file's header, its bytes, its padding, then the archive's end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace graft::serve {

class TarArchive {
 public:
  static constexpr uint64_t kBlock = 512;

  // The header block of a regular file of `size` bytes (mode 0644, mtime 0, owner 0:0, so the
  // archive is reproducible). `path` is relative and POSIX; an unsafe one, or one longer than
  // ustar's name + prefix fields allow, is InvalidInput.
  static Result<std::string> Header(std::string_view path, uint64_t size);
  // The zero bytes that fill a file of `size` bytes up to whole blocks.
  static std::string_view Padding(uint64_t size);
  // The archive's end: two zero blocks.
  static std::string_view End();
  // The bytes a file of `size` bytes takes in the archive: header, content and padding.
  static uint64_t EntrySize(uint64_t size);
};

}  // namespace graft::serve
