#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include "core/file_descriptor.h"

namespace graft {
namespace fs = std::filesystem;

namespace {

std::string Errno() { return std::strerror(errno); }

}  // namespace

Result<std::string> ReadFile(const fs::path& path, uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO planted where a file is expected must not hang; it is refused below.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT) return NotFound("no such file: " + path.string());
    // Input the user named that cannot be read is bad input (exit 2), not a failure of graft.
    if (errno == EACCES || errno == EPERM || errno == EISDIR || errno == ELOOP) {
      return InvalidInput("cannot read " + path.string() + ": " + Errno());
    }
    return IoError("cannot open " + path.string() + ": " + Errno());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return IoError("cannot stat " + path.string() + ": " + Errno());
  if (!S_ISREG(st.st_mode)) return InvalidInput(path.string() + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return InvalidInput(path.string() + " is too large (" + std::to_string(st.st_size) +
                        " bytes, limit " + std::to_string(max_bytes) + ")");
  }
  std::string contents(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::read(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot read " + path.string() + ": " + Errno());
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  contents.resize(done);
  return contents;
}

Status SyncDirectory(const fs::path& dir) {
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("cannot open directory " + dir.string() + ": " + Errno());
  if (::fsync(fd.get()) != 0) return IoError("cannot fsync " + dir.string() + ": " + Errno());
  return Status::Ok();
}

Status WriteFileAtomic(const fs::path& path, std::string_view contents, fs::perms mode) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::string temp = (dir / ("." + path.filename().string() + ".tmpXXXXXX")).string();
  FileDescriptor fd(::mkstemp(temp.data()));
  if (fd.get() < 0)
    return IoError("cannot create a temporary file in " + dir.string() + ": " + Errno());
  auto fail = [&](const std::string& what) {
    std::string reason = Errno();  // before unlink can change errno
    ::unlink(temp.c_str());
    return IoError(what + " " + path.string() + ": " + reason);
  };
  if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) return fail("cannot set the mode of");
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot write");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("cannot fsync");
  if (::close(fd.Release()) != 0) return fail("cannot close");
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail("cannot rename into");
  return SyncDirectory(dir);
}

Status CheckSafeRelativePath(std::string_view relative) {
  auto bad = [&](const std::string& why) {
    return InvalidInput("unsafe path \"" + std::string(relative) + "\": " + why);
  };
  if (relative.empty()) return bad("empty");
  if (relative.find('\0') != std::string_view::npos) return bad("contains a NUL byte");
  if (relative.find('\\') != std::string_view::npos) return bad("contains a backslash");
  if (relative.front() == '/') return bad("absolute");
  size_t start = 0;
  while (start <= relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string_view::npos) end = relative.size();
    std::string_view part = relative.substr(start, end - start);
    if (part.empty()) return bad("empty path component");
    if (part == ".") return bad("'.' component");
    if (part == "..") return bad("escapes its directory");
    start = end + 1;
  }
  return Status::Ok();
}

TempDir::TempDir(std::string_view prefix) {
  std::string pattern = (fs::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::abort();  // no temporary directory means the environment is unusable
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

}  // namespace graft
