// FileBlobStore: the content-addressed file store blobs/sha256/ab/cdef... inside a registry
// directory (blobs 0444, directories 0755, whatever the umask).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.h"
#include "core/status.h"
#include "registry/blob_store.h"

namespace graft::registry {

class FileBlobStore : public BlobStore {
 public:
  explicit FileBlobStore(std::filesystem::path root) : root_(std::move(root)) {}

  // Where the blob named by `hex` (64 lowercase hex digits, optional "sha256:") lives. Anything
  // else (a tampered row such as "../../x") is refused, so a path never escapes the store.
  Result<std::filesystem::path> PathFor(std::string_view hex) const override;

  // Writes the pieces to a temporary file in the blob's directory (.<name>.tmpXXXXXX), re-hashing
  // them, and only when they match `hex` fsyncs it and renames it into place (then fsyncs the
  // directory).
  Result<std::string> PutStream(std::string_view hex, const BlobSource& source,
                                bool* created = nullptr) override;
  // Moves the file at `staged` (same file system, already fsynced, its SHA-256 `hex` computed by
  // whoever wrote it) into the store as blob `hex`, unless that blob exists; `created` as Put.
  Result<std::string> Adopt(const std::filesystem::path& staged, std::string_view hex,
                            bool* created = nullptr) override;
  // Reads the blob file a piece at a time, re-hashing it.
  Status Stream(std::string_view hex, const BlobSink& sink) const override;
  bool Has(std::string_view hex) const override;
  // Removes a blob (used to undo blobs written by a change that did not commit).
  void Remove(std::string_view hex) override;
  // Every blob file present, as hex digests (for audits that look for orphans).
  std::vector<std::string> List() const override;

  const std::filesystem::path& root() const override { return root_; }

 private:
  // Creates the blob's directories (0755 whatever the umask); fsyncs a new one's parent.
  Status MakeParents(const std::filesystem::path& blob_path) const;
  std::filesystem::path root_;  // .../blobs
};

}  // namespace graft::registry
