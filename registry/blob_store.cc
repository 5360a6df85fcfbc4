#include "registry/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/file_descriptor.h"
#include "core/sha256.h"
#include "registry/atomic_file_writer.h"

namespace graft::registry {
namespace fs = std::filesystem;

Status StreamFile(const fs::path& path, const BlobSink& sink) {
  FileDescriptor in(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (in.get() < 0) {
    if (errno == ENOENT) return NotFound("no such file: " + path.string());
    if (errno == ELOOP) return InvalidInput(path.string() + " is a symlink");
    return IoError("cannot read " + path.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return InvalidInput(path.string() + " is not a regular file");
  }
  // A small file (most blobs) is read in one piece of its size: no 1 MiB buffer to clear for it.
  std::string buffer(static_cast<size_t>(std::clamp<off_t>(st.st_size + 1, 1, kBlobPieceSize)),
                     '\0');
  for (;;) {
    const ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot read " + path.string() + ": " + std::strerror(errno));
    if (n == 0) return Status::Ok();
    GRAFT_RETURN_IF_ERROR(sink(std::string_view(buffer.data(), static_cast<size_t>(n))));
  }
}

Result<std::string> BlobStore::Put(std::string_view bytes, bool* created) {
  return PutStream(
      Sha256Hex(bytes),
      [&](const BlobSink& sink) {
        for (size_t at = 0; at < bytes.size(); at += kBlobPieceSize) {
          GRAFT_RETURN_IF_ERROR(sink(bytes.substr(at, kBlobPieceSize)));
        }
        return Status::Ok();
      },
      created);
}

Status BlobStore::Verify(std::string_view hex, uint64_t expected_size) const {
  uint64_t size = 0;
  GRAFT_RETURN_IF_ERROR(Stream(hex, [&](std::string_view piece) {
    size += piece.size();
    return Status::Ok();
  }));
  if (size != expected_size) {
    if (hex.starts_with("sha256:")) hex.remove_prefix(7);
    return VerificationFailed("blob sha256:" + std::string(hex) + " has " + std::to_string(size) +
                              " bytes, the registry recorded " + std::to_string(expected_size));
  }
  return Status::Ok();
}

Result<std::string> BlobStore::Get(std::string_view hex) const {
  std::string out;
  GRAFT_RETURN_IF_ERROR(Stream(hex, [&](std::string_view piece) {
    out.append(piece);
    return Status::Ok();
  }));
  return out;
}

Result<uint64_t> BlobStore::WriteFile(std::string_view hex, const fs::path& out) const {
  GRAFT_ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::Create(out, fs::perms(0644)));
  uint64_t size = 0;
  GRAFT_RETURN_IF_ERROR(Stream(hex, [&](std::string_view piece) {
    size += piece.size();
    return writer.Write(piece);
  }));
  GRAFT_RETURN_IF_ERROR(writer.Commit());  // only bytes that matched the digest
  return size;
}

Result<uint64_t> BlobStore::CopyFrom(const BlobStore& source, std::string_view hex) {
  uint64_t size = 0;
  GRAFT_RETURN_IF_ERROR(PutStream(hex, [&](const BlobSink& sink) {
                          return source.Stream(hex, [&](std::string_view piece) {
                            size += piece.size();
                            return sink(piece);
                          });
                        }).status());
  return size;
}

}  // namespace graft::registry
