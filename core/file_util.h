// File helpers: bounded reads, atomic durable writes, private-key file modes, safe relative paths.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace graft {

// Reads a whole regular file; refuses files larger than `max_bytes`.
Result<std::string> ReadFile(const std::filesystem::path& path,
                             uint64_t max_bytes = uint64_t{1} << 32);

// Writes `contents` to a temporary file beside `path`, fsyncs it, renames it over `path` and
// fsyncs the directory, so readers see the old file or the new one, never a torn one.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents,
                       std::filesystem::perms mode = std::filesystem::perms(0644));

// fsync of a directory (after a rename into it).
Status SyncDirectory(const std::filesystem::path& dir);

// Checks that `relative` is a relative POSIX path that stays inside its root: no absolute
// paths, no "..", no empty or "." components, no backslashes or NUL bytes.
Status CheckSafeRelativePath(std::string_view relative);

// A temporary directory removed (recursively) when the object goes out of scope.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "graft");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace graft
