#include "registry/atomic_file_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/file_util.h"

namespace graft::registry {
namespace fs = std::filesystem;

Result<AtomicFileWriter> AtomicFileWriter::Create(const fs::path& path, fs::perms mode) {
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::string temp = (dir / ("." + path.filename().string() + ".tmpXXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return IoError("cannot create a temporary file in " + dir.string() + ": " +
                   std::strerror(errno));
  }
  AtomicFileWriter writer(path, std::move(temp), fd);
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) return writer.Failed("cannot set the mode of");
  return writer;
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::exchange(other.temp_, {})),
      fd_(other.fd_.Release()) {}

AtomicFileWriter::~AtomicFileWriter() {
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

Status AtomicFileWriter::Failed(const std::string& what) const {
  return IoError(what + " " + path_.string() + ": " + std::strerror(errno));
}

Status AtomicFileWriter::Write(std::string_view piece) {
  while (!piece.empty()) {
    const ssize_t n = ::write(fd_.get(), piece.data(), piece.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Failed("cannot write");
    piece.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status AtomicFileWriter::Commit() {
  if (::fsync(fd_.get()) != 0) return Failed("cannot fsync");
  if (::close(fd_.Release()) != 0) return Failed("cannot close");
  if (::rename(temp_.c_str(), path_.c_str()) != 0) return Failed("cannot rename into");
  temp_.clear();
  return SyncDirectory(path_.parent_path().empty() ? fs::path(".") : path_.parent_path());
}

}  // namespace graft::registry
