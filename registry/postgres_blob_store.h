// PostgresBlobStore: blobs as rows of a PostgreSQL registry (blob_contents: digest, size, chunk
// count; blob_chunks: 1 MiB bytea pieces), written in the caller's transaction and streamed in
// and out a chunk at a time.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "registry/blob_store.h"
#include "registry/database.h"

namespace graft::registry {

class PostgresBlobStore : public BlobStore {
 public:
  // `db` outlives the store; blobs are written in whatever transaction `db` has open, so a change
  // that rolls back takes its new blobs with it.
  explicit PostgresBlobStore(Database* db) : db_(db) {}

  // InvalidInput: the blobs of a PostgreSQL registry are rows, not files.
  Result<std::filesystem::path> PathFor(std::string_view hex) const override;
  // Inserts the pieces as 1 MiB chunk rows, re-hashing them; the content row (digest, size,
  // chunk count) only when they match `hex`. A failure leaves chunk rows for the caller's
  // transaction to roll back.
  Result<std::string> PutStream(std::string_view hex, const BlobSource& source,
                                bool* created = nullptr) override;
  // Streams `staged` in (PutStream) a piece at a time, then removes it.
  Result<std::string> Adopt(const std::filesystem::path& staged, std::string_view hex,
                            bool* created = nullptr) override;
  // Selects the chunks one at a time, in order; checks the chunk count, size and digest.
  Status Stream(std::string_view hex, const BlobSink& sink) const override;
  bool Has(std::string_view hex) const override;
  void Remove(std::string_view hex) override;
  std::vector<std::string> List() const override;
  const std::filesystem::path& root() const override { return root_; }

 private:
  Status InsertChunk(const std::string& hex, uint64_t index, std::string_view data);
  Database* db_;
  std::filesystem::path root_;  // empty: no files
};

}  // namespace graft::registry
