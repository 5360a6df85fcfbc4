#include "models/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace graft::models {

Result<std::shared_ptr<MappedFile>> MappedFile::Open(const std::filesystem::path& path) {
  const std::string source = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("no such file: " + source);
    return IoError("cannot open " + source + ": " + std::strerror(errno));
  }
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  const int stat_errno = errno;
  if (!stat_ok || !S_ISREG(st.st_mode) || st.st_size == 0) {
    ::close(fd);
    if (!stat_ok) return IoError("cannot stat " + source + ": " + std::strerror(stat_errno));
    return InvalidInput(source + (st.st_size == 0 ? ": empty file" : ": not a regular file"));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* address = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);  // the mapping keeps the file open
  if (address == MAP_FAILED) {
    return IoError("cannot map " + source + ": " + std::strerror(map_errno));
  }
  ::madvise(address, size, MADV_WILLNEED);
  return std::shared_ptr<MappedFile>(new MappedFile(static_cast<uint8_t*>(address), size));
}

MappedFile::~MappedFile() { ::munmap(address_, size_); }

void MappedFile::Release(std::span<const uint8_t> range) const {
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(range.data()) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(range.data()) + range.size()) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace graft::models
