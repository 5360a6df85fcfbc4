#include "registry/file_blob_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/file_util.h"
#include "core/sha256.h"
#include "registry/atomic_file_writer.h"

namespace graft::registry {
namespace fs = std::filesystem;

namespace {

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<fs::path> FileBlobStore::PathFor(std::string_view hex) const {
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  if (hex.size() != 64 || !IsLowerHex(hex)) {
    return InvalidInput("refusing blob name \"" + std::string(hex) +
                        "\": not a lowercase hex SHA-256 digest (a blob path may not escape " +
                        root_.string() + ")");
  }
  return root_ / "sha256" / std::string(hex.substr(0, 2)) / std::string(hex.substr(2));
}

Status FileBlobStore::MakeParents(const fs::path& blob_path) const {
  // root/sha256/ab: each made 0755 explicitly (mkdir's mode is masked by the umask).
  for (const fs::path& dir : {root_, root_ / "sha256", blob_path.parent_path()}) {
    if (::mkdir(dir.c_str(), 0755) == 0) {
      if (::chmod(dir.c_str(), 0755) != 0) {
        return IoError("cannot set the mode of " + dir.string() + ": " + std::strerror(errno));
      }
      GRAFT_RETURN_IF_ERROR(SyncDirectory(dir.parent_path()));
    } else if (errno != EEXIST) {
      return IoError("cannot create " + dir.string() + ": " + std::strerror(errno));
    }
  }
  return Status::Ok();
}

Result<std::string> FileBlobStore::PutStream(std::string_view hex, const BlobSource& source,
                                             bool* created) {
  GRAFT_ASSIGN_OR_RETURN(fs::path path, PathFor(hex));
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  if (created != nullptr) *created = false;
  if (Has(hex)) return std::string(hex);
  GRAFT_RETURN_IF_ERROR(MakeParents(path));
  GRAFT_ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::Create(path, fs::perms(0444)));
  Sha256 hash;
  GRAFT_RETURN_IF_ERROR(source([&](std::string_view piece) {
    hash.Update(piece);
    return writer.Write(piece);
  }));
  if (DigestHex(hash.Finish()) != hex) {
    return VerificationFailed("the bytes given for blob sha256:" + std::string(hex) +
                              " do not hash to it");
  }
  GRAFT_RETURN_IF_ERROR(writer.Commit());
  if (created != nullptr) *created = true;
  return std::string(hex);
}

Result<std::string> FileBlobStore::Adopt(const fs::path& staged, std::string_view hex,
                                         bool* created) {
  GRAFT_ASSIGN_OR_RETURN(fs::path path, PathFor(hex));
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  if (created != nullptr) *created = false;
  if (Has(hex)) return std::string(hex);
  GRAFT_RETURN_IF_ERROR(MakeParents(path));
  if (::chmod(staged.c_str(), 0444) != 0) {
    return IoError("cannot set the mode of " + staged.string() + ": " + std::strerror(errno));
  }
  if (::rename(staged.c_str(), path.c_str()) != 0) {
    return IoError("cannot move " + staged.string() +
                   " into the blob store: " + std::strerror(errno));
  }
  GRAFT_RETURN_IF_ERROR(SyncDirectory(path.parent_path()));
  if (created != nullptr) *created = true;
  return std::string(hex);
}

Status FileBlobStore::Stream(std::string_view hex, const BlobSink& sink) const {
  GRAFT_ASSIGN_OR_RETURN(fs::path path, PathFor(hex));
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  Sha256 hash;
  Status read = StreamFile(path, [&](std::string_view piece) {
    hash.Update(piece);
    return sink(piece);
  });
  if (read.kind() == ErrorKind::kNotFound) {
    return NotFound("blob sha256:" + std::string(hex) + " is missing from the store (" +
                    path.string() + ")");
  }
  if (read.kind() == ErrorKind::kInvalidInput) {  // a symlink or special file planted there
    return VerificationFailed("blob sha256:" + std::string(hex) +
                              " was replaced: " + read.message());
  }
  GRAFT_RETURN_IF_ERROR(read);
  if (DigestHex(hash.Finish()) != hex) {
    return VerificationFailed("blob sha256:" + std::string(hex) +
                              " does not match its digest (its content was altered)");
  }
  return Status::Ok();
}

bool FileBlobStore::Has(std::string_view hex) const {
  Result<fs::path> path = PathFor(hex);
  std::error_code error;
  return path.ok() && fs::is_regular_file(*path, error);
}

void FileBlobStore::Remove(std::string_view hex) {
  Result<fs::path> path = PathFor(hex);
  if (!path.ok()) return;
  std::error_code error;
  fs::remove(*path, error);
  if (fs::is_empty(path->parent_path(), error)) fs::remove(path->parent_path(), error);
  if (fs::is_empty(path->parent_path().parent_path(), error)) {
    fs::remove(path->parent_path().parent_path(), error);
  }
}

std::vector<std::string> FileBlobStore::List() const {
  std::vector<std::string> out;
  std::error_code error;
  fs::path base = root_ / "sha256";
  if (!fs::is_directory(base, error)) return out;
  for (const auto& prefix : fs::directory_iterator(base, error)) {
    if (!prefix.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(prefix.path(), error)) {
      out.push_back(prefix.path().filename().string() + file.path().filename().string());
    }
  }
  return out;
}

}  // namespace graft::registry
