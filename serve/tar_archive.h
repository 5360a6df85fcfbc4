// TarArchive: a POSIX ustar archive of regular files, built in memory (an adapter export).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace graft::serve {

class TarArchive {
 public:
  // Appends a regular file (mode 0644, mtime 0, owner 0:0 so the archive is reproducible).
  // `path` is relative and POSIX; longer than ustar's name + prefix fields allow is InvalidInput.
  Status Add(std::string_view path, std::string_view content);
  // The archive with its two closing zero blocks.
  std::string Finish() &&;

 private:
  std::string data_;
};

}  // namespace graft::serve
