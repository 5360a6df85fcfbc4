// BlobStore: a registry's content-addressed store of file bytes (SHA-256 named, deduplicated):
// files in the registry directory (FileBlobStore) or chunk rows in PostgreSQL
// (PostgresBlobStore). Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace graft::registry {

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Where the blob named by `hex` (64 lowercase hex digits, optional "sha256:") lives as a file.
  // Anything else (a tampered row such as "../../x") is refused, so a path never escapes the
  // store; a store that keeps no files says so (InvalidInput).
  virtual Result<std::filesystem::path> PathFor(std::string_view hex) const = 0;
  // Stores `bytes` durably and returns its hex digest. `created` is set when the blob did not
  // exist before.
  virtual Result<std::string> Put(std::string_view bytes, bool* created = nullptr) = 0;
  // Stores the file at `staged` (already fsynced, its SHA-256 `hex` computed by whoever wrote
  // it) as blob `hex`, unless that blob exists; the staged file is consumed. `created` as Put.
  virtual Result<std::string> Adopt(const std::filesystem::path& staged, std::string_view hex,
                                    bool* created = nullptr) = 0;
  // Reads a blob and re-verifies its digest.
  virtual Result<std::string> Get(std::string_view hex) const = 0;
  // Re-hashes a blob without loading it whole: NotFound if missing, kVerification if changed.
  virtual Status Verify(std::string_view hex, uint64_t expected_size) const = 0;
  virtual bool Has(std::string_view hex) const = 0;
  // Removes a blob (used to undo blobs written by a change that did not commit).
  virtual void Remove(std::string_view hex) = 0;
  // Every blob present, as hex digests (for audits that look for orphans).
  virtual std::vector<std::string> List() const = 0;
  // The store's directory (empty for a store that keeps no files).
  virtual const std::filesystem::path& root() const = 0;
};

}  // namespace graft::registry
