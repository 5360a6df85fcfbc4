#include "registry/registry_directory.h"

#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/file_util.h"
#include "registry/intake.h"
#include "registry/registry.h"

namespace graft::registry {
namespace fs = std::filesystem;
namespace {

// Removes a directory tree when it goes out of scope, unless released.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(fs::path path) : path_(std::move(path)) {}
  ~RemoveOnExit() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  void Release() { path_.clear(); }

 private:
  fs::path path_;
};

}  // namespace

Status BuildRegistryDirectory(const fs::path& given,
                              const std::function<Status(const fs::path& building)>& fill) {
  std::error_code error;
  // "reg/" and "." name a directory by its own name, so it can be built beside it.
  fs::path dir = fs::absolute(given, error).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();
  bool existed = fs::exists(dir, error);
  if (existed && (!fs::is_directory(dir, error) || !fs::is_empty(dir, error))) {
    if (fs::exists(dir / kDatabaseFile, error)) {
      return Conflict(dir.string() + " is already a graft registry");
    }
    return InvalidInput(dir.string() + " exists and is not an empty directory");
  }
  if (dir == dir.root_path()) return InvalidInput("cannot make the root directory a registry");
  const fs::path parent = dir.parent_path();
  fs::create_directories(parent, error);
  if (error) return IoError("cannot create " + parent.string() + ": " + error.message());

  // Built beside its final place (same file system), then renamed into place in one step.
  std::string pattern = (parent / ("." + dir.filename().string() + ".graft-init-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return IoError("cannot create a temporary directory in " + parent.string() + ": " +
                   std::strerror(errno));
  }
  const fs::path building = pattern;
  RemoveOnExit remove_building(building);
  fs::create_directories(building / kBlobDir, error);
  fs::create_directories(building / kStagingDir, error);
  if (error) return IoError("cannot create " + building.string() + ": " + error.message());
  fs::permissions(building / kBlobDir, fs::perms(0755), error);
  fs::permissions(building / kStagingDir, fs::perms(0700), error);
  GRAFT_RETURN_IF_ERROR(fill(building));
  GRAFT_RETURN_IF_ERROR(SyncDirectory(building));
  // rename(2) replaces an empty directory, and fails if `dir` was filled meanwhile.
  if (::rename(building.c_str(), dir.c_str()) != 0) {
    if (errno == ENOTEMPTY || errno == EEXIST) {
      return Conflict(dir.string() + " was filled by someone else meanwhile");
    }
    return IoError("cannot move the new registry to " + dir.string() + ": " + std::strerror(errno));
  }
  remove_building.Release();
  return SyncDirectory(parent);
}

}  // namespace graft::registry
