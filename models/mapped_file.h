// MappedFile: a whole file memory-mapped copy-on-write, shared by the tensors that view it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "core/status.h"

namespace graft::models {

class MappedFile {
 public:
  // Maps `path` readable and writable but private (MAP_PRIVATE): reads share the page cache, a
  // write copies only the page it touches and never reaches the file. Read-ahead is requested.
  static Result<std::shared_ptr<MappedFile>> Open(const std::filesystem::path& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<uint8_t> bytes() const { return {address_, size_}; }
  // Drops the whole pages inside `range` from this process (they are read again from the file if
  // touched): for bytes already converted into a tensor of another dtype.
  void Release(std::span<const uint8_t> range) const;

 private:
  MappedFile(uint8_t* address, size_t size) : address_(address), size_(size) {}

  uint8_t* address_;
  size_t size_;
};

}  // namespace graft::models
