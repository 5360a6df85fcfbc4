#include "registry/intake.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "core/file_descriptor.h"
#include "core/file_util.h"
#include "core/sha256.h"

namespace graft::registry {
namespace fs = std::filesystem;

namespace {

// Copies `source` (a regular file; a symlink is followed only when `follow`) to the new file
// `dest` while hashing it; the copy is fsynced. The digest is of the bytes written, whatever
// happens to the source meanwhile.
Result<ManifestEntry> CopyAndHash(const fs::path& source, const fs::path& dest,
                                  const std::string& relative, bool follow) {
  FileDescriptor in(
      ::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW)));
  if (in.get() < 0) {
    if (errno == ELOOP) return InvalidInput(source.string() + " is a symlink (not registered)");
    if (errno == ENOENT) return NotFound("no such file: " + source.string());
    return InvalidInput("cannot read " + source.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return InvalidInput(source.string() + " is not a regular file");
  }
  fs::create_directories(dest.parent_path());
  FileDescriptor out(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return IoError("cannot create " + dest.string() + ": " + std::strerror(errno));
  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  uint64_t size = 0;
  for (;;) {
    ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return InvalidInput("cannot read " + source.string() + ": " + std::strerror(errno));
    if (n == 0) break;
    std::string_view chunk(buffer.data(), static_cast<size_t>(n));
    hash.Update(chunk);
    size_t done = 0;
    while (done < chunk.size()) {
      ssize_t w = ::write(out.get(), chunk.data() + done, chunk.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return IoError("cannot write " + dest.string() + ": " + std::strerror(errno));
      done += static_cast<size_t>(w);
    }
    size += static_cast<uint64_t>(n);
  }
  if (::fsync(out.get()) != 0) {
    return IoError("cannot fsync " + dest.string() + ": " + std::strerror(errno));
  }
  return ManifestEntry{relative, hash.Finish(), size};
}

}  // namespace

Result<fs::path> Intake::MakeStagingDir(const fs::path& registry_dir) {
  fs::path staging = registry_dir / kStagingDir;
  std::error_code error;
  if (!fs::is_directory(staging, error)) {
    if (::mkdir(staging.c_str(), 0700) != 0 && errno != EEXIST) {
      return IoError("cannot create " + staging.string() + ": " + std::strerror(errno));
    }
  }
  std::string pattern =
      (staging / (std::string(kIntakePrefix) + std::to_string(::getpid()) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return IoError("cannot create a staging directory in " + staging.string() + ": " +
                   std::strerror(errno));
  }
  return fs::path(pattern);
}

Result<Intake> Intake::CopyDirectory(const fs::path& source, const fs::path& registry_dir) {
  std::error_code error;
  if (!fs::is_directory(source, error)) {
    return InvalidInput(source.string() + " is not a directory");
  }
  GRAFT_ASSIGN_OR_RETURN(fs::path staging, MakeStagingDir(registry_dir));
  Intake intake(staging, {});
  fs::recursive_directory_iterator it(source, fs::directory_options::none, error);
  if (error) return InvalidInput("cannot read " + source.string() + ": " + error.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) return InvalidInput("cannot read " + source.string() + ": " + error.message());
    const fs::directory_entry& entry = *it;
    std::string relative = fs::relative(entry.path(), source, error).generic_string();
    GRAFT_RETURN_IF_ERROR(CheckSafeRelativePath(relative));
    if (entry.is_symlink(error)) {
      return InvalidInput(source.string() + ": " + relative + " is a symlink (not registered)");
    }
    if (entry.is_directory(error)) continue;
    if (!entry.is_regular_file(error)) {
      return InvalidInput(source.string() + ": " + relative + " is not a regular file");
    }
    GRAFT_ASSIGN_OR_RETURN(ManifestEntry staged,
                           CopyAndHash(entry.path(), staging / relative, relative, false));
    intake.manifest_.entries.push_back(std::move(staged));
  }
  std::sort(intake.manifest_.entries.begin(), intake.manifest_.entries.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) {
              return ManifestPathLess(a.path, b.path);
            });
  return intake;
}

Result<Intake> Intake::CopyFile(const fs::path& source, const fs::path& registry_dir) {
  std::string name = source.filename().string();
  if (name.empty() || name == "." || name == "..") {
    return InvalidInput(source.string() + " is not a file");
  }
  GRAFT_ASSIGN_OR_RETURN(fs::path staging, MakeStagingDir(registry_dir));
  Intake intake(staging, {});
  GRAFT_ASSIGN_OR_RETURN(ManifestEntry staged, CopyAndHash(source, staging / name, name, true));
  intake.manifest_.entries.push_back(std::move(staged));
  return intake;
}

Status Intake::InSourceTerms(const Status& status, const fs::path& source) const {
  if (status.ok()) return status;
  std::string message = status.message();
  const std::string staged = dir_.string();
  const std::string given = source.string();
  for (size_t at = message.find(staged); at != std::string::npos;
       at = message.find(staged, at + given.size())) {
    message.replace(at, staged.size(), given);
  }
  return Status(status.kind(), message);
}

Intake::Intake(Intake&& other) noexcept
    : dir_(std::exchange(other.dir_, {})), manifest_(std::move(other.manifest_)) {}

Intake::~Intake() {
  if (dir_.empty()) return;
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

}  // namespace graft::registry
