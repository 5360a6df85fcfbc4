// PostgresBlobStore: blobs as rows of a PostgreSQL registry (blob_contents: digest, size, chunk
// count; blob_chunks: 1 MiB bytea pieces), written in the caller's transaction and streamed in
// and out a chunk at a time.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/blob_store.h"
#include "registry/database.h"

namespace graft::registry {

inline constexpr size_t kBlobChunkSize = 1u << 20;

class PostgresBlobStore : public BlobStore {
 public:
  // `db` outlives the store; blobs are written in whatever transaction `db` has open, so a change
  // that rolls back takes its new blobs with it.
  explicit PostgresBlobStore(Database* db) : db_(db) {}

  // InvalidInput: the blobs of a PostgreSQL registry are rows, not files.
  Result<std::filesystem::path> PathFor(std::string_view hex) const override;
  Result<std::string> Put(std::string_view bytes, bool* created = nullptr) override;
  // Reads `staged` a chunk at a time, re-hashing it (the digest must be `hex`), then removes it.
  Result<std::string> Adopt(const std::filesystem::path& staged, std::string_view hex,
                            bool* created = nullptr) override;
  Result<std::string> Get(std::string_view hex) const override;
  Status Verify(std::string_view hex, uint64_t expected_size) const override;
  bool Has(std::string_view hex) const override;
  void Remove(std::string_view hex) override;
  std::vector<std::string> List() const override;
  const std::filesystem::path& root() const override { return root_; }

 private:
  // Streams the blob's chunks, in order, to `sink`; checks the chunk count and digest.
  Status ReadChunks(std::string_view hex, const std::function<void(std::string_view)>& sink) const;
  Status Insert(const std::string& hex, uint64_t size, uint64_t chunks);
  Database* db_;
  std::filesystem::path root_;  // empty: no files
};

}  // namespace graft::registry
