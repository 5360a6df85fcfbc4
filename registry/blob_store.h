// BlobStore: a registry's content-addressed store of file bytes (SHA-256 named, deduplicated):
// files in the registry directory (FileBlobStore) or chunk rows in PostgreSQL
// (PostgresBlobStore), read and written as streams of pieces of at most kBlobPieceSize bytes.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace graft::registry {

// The largest piece a store reads or writes at a time (a PostgreSQL chunk row).
inline constexpr size_t kBlobPieceSize = 1u << 20;

// Receives a blob's bytes in order, one piece at a time; a non-ok Status stops the stream.
using BlobSink = std::function<Status(std::string_view piece)>;
// Produces a blob's bytes: calls the sink with each piece, in order.
using BlobSource = std::function<Status(const BlobSink& sink)>;

// Reads the regular file at `path` (a symlink is refused) a piece at a time into `sink`:
// NotFound if it does not exist.
Status StreamFile(const std::filesystem::path& path, const BlobSink& sink);

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Where the blob named by `hex` (64 lowercase hex digits, optional "sha256:") lives as a file.
  // Anything else (a tampered row such as "../../x") is refused, so a path never escapes the
  // store; a store that keeps no files says so (InvalidInput).
  virtual Result<std::filesystem::path> PathFor(std::string_view hex) const = 0;
  // Stores the bytes `source` produces as blob `hex`, unless that blob exists (then `source` is
  // not called), re-hashing them on the way: when they do not hash to `hex` (or `source` fails)
  // nothing is stored. Holds one piece in memory at a time. `created` is set when the
  // blob did not exist before.
  virtual Result<std::string> PutStream(std::string_view hex, const BlobSource& source,
                                        bool* created = nullptr) = 0;
  // Stores the file at `staged` (already fsynced, its SHA-256 `hex` computed by whoever wrote
  // it) as blob `hex`, unless that blob exists; the staged file is consumed. `created` as
  // PutStream.
  virtual Result<std::string> Adopt(const std::filesystem::path& staged, std::string_view hex,
                                    bool* created = nullptr) = 0;
  // Streams a blob's bytes to `sink`, one piece at a time, re-hashing them: NotFound if missing,
  // kVerification if they do not match the digest. The mismatch is known only after the last
  // piece, so a sink must not use what it received until Stream returns Ok.
  virtual Status Stream(std::string_view hex, const BlobSink& sink) const = 0;
  virtual bool Has(std::string_view hex) const = 0;
  // Removes a blob (used to undo blobs written by a change that did not commit).
  virtual void Remove(std::string_view hex) = 0;
  // Every blob present, as hex digests (for audits that look for orphans).
  virtual std::vector<std::string> List() const = 0;
  // The store's directory (empty for a store that keeps no files).
  virtual const std::filesystem::path& root() const = 0;

  // Stores `bytes` durably (PutStream) and returns its hex digest; `created` as PutStream.
  Result<std::string> Put(std::string_view bytes, bool* created = nullptr);
  // Re-hashes a blob without loading it whole: NotFound if missing, kVerification if changed or
  // not `expected_size` bytes long.
  Status Verify(std::string_view hex, uint64_t expected_size) const;
  // Reads a whole blob and re-verifies its digest (small blobs: attestations, configs, suites).
  Result<std::string> Get(std::string_view hex) const;
  // Streams a blob into the new file `out` (mode 0644): written beside it, fsynced and renamed
  // into place only once every byte was re-hashed and matched, so a failure (a missing or
  // altered blob, a full disk) leaves no file at `out`. Returns the number of bytes.
  Result<uint64_t> WriteFile(std::string_view hex, const std::filesystem::path& out) const;
  // Copies blob `hex` from `source` (another store), streamed and re-hashed on the way; a blob
  // already here is not read again. Returns the blob's size in `source` (0 when it was here).
  Result<uint64_t> CopyFrom(const BlobStore& source, std::string_view hex);
};

}  // namespace graft::registry
