// AtomicFileWriter: a file written piece by piece into a temporary sibling (".<name>.tmpXXXXXX")
// and renamed into place, fsynced, only when committed; an uncommitted one is removed.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/file_descriptor.h"
#include "core/status.h"

namespace graft::registry {

class AtomicFileWriter {
 public:
  // Creates the temporary file beside `path` (whose directory must exist) with `mode`.
  static Result<AtomicFileWriter> Create(const std::filesystem::path& path,
                                         std::filesystem::perms mode);
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  ~AtomicFileWriter();  // removes the temporary file unless committed

  Status Write(std::string_view piece);
  // fsync, rename over `path`, fsync of the directory.
  Status Commit();
  const std::filesystem::path& path() const { return path_; }

 private:
  AtomicFileWriter(std::filesystem::path path, std::string temp, int fd)
      : path_(std::move(path)), temp_(std::move(temp)), fd_(fd) {}
  // `what` and the path, with errno's reason.
  Status Failed(const std::string& what) const;
  std::filesystem::path path_;
  std::string temp_;  // empty once committed or moved from
  FileDescriptor fd_;
};

}  // namespace graft::registry
