// Intake: files to register, copied once into the registry's staging area while they are hashed,
// so that what registration verifies is exactly what it stores (no time-of-check/time-of-use gap).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/manifest.h"
#include "core/status.h"

namespace graft::registry {

// The staging area inside a registry directory, and the prefix of each staging directory in it
// (intake-<pid>-<random>); `graft registry gc` removes those whose process has ended.
inline constexpr std::string_view kStagingDir = "tmp";
inline constexpr std::string_view kIntakePrefix = "intake-";

class Intake {
 public:
  // Copies every regular file under `source` (a symlink or special file is an error naming it)
  // into a new staging directory in `registry_dir`, hashing each file as it is copied.
  static Result<Intake> CopyDirectory(const std::filesystem::path& source,
                                      const std::filesystem::path& registry_dir);
  // The same for one file, staged under its file name.
  static Result<Intake> CopyFile(const std::filesystem::path& source,
                                 const std::filesystem::path& registry_dir);

  Intake(Intake&& other) noexcept;
  Intake& operator=(Intake&&) = delete;
  ~Intake();  // removes the staging directory and whatever is still in it

  // The staged copy (same relative paths as the source): verify this, never the source again.
  const std::filesystem::path& dir() const { return dir_; }
  // Every staged file with the digest and size of the bytes staged.
  const Manifest& manifest() const { return manifest_; }
  // `status` with the staging directory's path replaced by `source` (messages name what the
  // user gave, not its staged copy).
  Status InSourceTerms(const Status& status, const std::filesystem::path& source) const;
  // The staged file at `relative`.
  std::filesystem::path PathOf(std::string_view relative) const { return dir_ / relative; }

 private:
  Intake(std::filesystem::path dir, Manifest manifest)
      : dir_(std::move(dir)), manifest_(std::move(manifest)) {}
  static Result<std::filesystem::path> MakeStagingDir(const std::filesystem::path& registry_dir);
  std::filesystem::path dir_;
  Manifest manifest_;
};

}  // namespace graft::registry
