#include "registry/postgres_blob_store.h"

#include <algorithm>

#include "core/sha256.h"

namespace graft::registry {
namespace fs = std::filesystem;

namespace {

// "sha256:" stripped; refuses anything but 64 lowercase hex digits.
Result<std::string> BlobHex(std::string_view hex) {
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  bool ok = hex.size() == 64;
  for (char c : hex) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!ok) {
    return InvalidInput("refusing blob name \"" + std::string(hex) +
                        "\": not a lowercase hex SHA-256 digest");
  }
  return std::string(hex);
}

}  // namespace

Result<fs::path> PostgresBlobStore::PathFor(std::string_view hex) const {
  GRAFT_ASSIGN_OR_RETURN(std::string name, BlobHex(hex));
  return InvalidInput("blob sha256:" + name + " is a row of the PostgreSQL registry " +
                      db_->path().string() + ", not a file");
}

bool PostgresBlobStore::Has(std::string_view hex) const {
  Result<std::string> name = BlobHex(hex);
  if (!name.ok()) return false;
  Result<Statement> s = db_->Prepare("SELECT 1 FROM blob_contents WHERE digest = ?");
  if (!s.ok() || !s->Bind(1, *name).ok()) return false;
  Result<bool> row = s->Step();
  return row.ok() && *row;
}

Status PostgresBlobStore::InsertChunk(const std::string& hex, uint64_t index,
                                      std::string_view data) {
  GRAFT_ASSIGN_OR_RETURN(
      Statement s, db_->Prepare("INSERT INTO blob_chunks(digest, idx, data) VALUES(?, ?, ?)"));
  GRAFT_RETURN_IF_ERROR(s.BindAll(hex, index));
  GRAFT_RETURN_IF_ERROR(s.BindBlob(3, data));
  return s.Run();
}

Result<std::string> PostgresBlobStore::PutStream(std::string_view hex, const BlobSource& source,
                                                 bool* created) {
  GRAFT_ASSIGN_OR_RETURN(std::string name, BlobHex(hex));
  if (created != nullptr) *created = false;
  if (Has(name)) return name;
  Sha256 hash;
  std::string chunk;  // pieces gathered into 1 MiB chunks
  chunk.reserve(kBlobPieceSize);
  uint64_t size = 0;
  uint64_t chunks = 0;
  GRAFT_RETURN_IF_ERROR(source([&](std::string_view piece) -> Status {
    hash.Update(piece);
    size += piece.size();
    while (!piece.empty()) {
      const size_t take = std::min(piece.size(), kBlobPieceSize - chunk.size());
      chunk.append(piece.substr(0, take));
      piece.remove_prefix(take);
      if (chunk.size() == kBlobPieceSize) {
        GRAFT_RETURN_IF_ERROR(InsertChunk(name, chunks++, chunk));
        chunk.clear();
      }
    }
    return Status::Ok();
  }));
  if (!chunk.empty()) GRAFT_RETURN_IF_ERROR(InsertChunk(name, chunks++, chunk));
  if (DigestHex(hash.Finish()) != name) {
    return VerificationFailed("the bytes given for blob sha256:" + name + " do not hash to it");
  }
  GRAFT_RETURN_IF_ERROR(db_->Run("INSERT INTO blob_contents(digest, size, chunks) VALUES(?, ?, ?)",
                                 name, size, chunks));
  if (created != nullptr) *created = true;
  return name;
}

Result<std::string> PostgresBlobStore::Adopt(const fs::path& staged, std::string_view hex,
                                             bool* created) {
  Result<std::string> stored = PutStream(
      hex, [&](const BlobSink& sink) { return StreamFile(staged, sink); }, created);
  if (!stored.ok() && stored.status().kind() == ErrorKind::kVerification) {
    return VerificationFailed(staged.string() + " changed after it was hashed (expected sha256:" +
                              std::string(hex) + ")");
  }
  if (stored.ok()) {
    std::error_code ignored;
    fs::remove(staged, ignored);
  }
  return stored;
}

Status PostgresBlobStore::Stream(std::string_view hex, const BlobSink& sink) const {
  GRAFT_ASSIGN_OR_RETURN(std::string name, BlobHex(hex));
  GRAFT_ASSIGN_OR_RETURN(Statement head,
                         db_->Prepare("SELECT size, chunks FROM blob_contents WHERE digest = ?"));
  GRAFT_RETURN_IF_ERROR(head.Bind(1, name));
  GRAFT_ASSIGN_OR_RETURN(bool found, head.Step());
  if (!found) return NotFound("blob sha256:" + name + " is missing from the store");
  const int64_t size = head.Int(0);
  const int64_t chunks = head.Int(1);
  Sha256 hash;
  int64_t total = 0;
  for (int64_t idx = 0; idx < chunks; ++idx) {
    GRAFT_ASSIGN_OR_RETURN(
        Statement s, db_->Prepare("SELECT data FROM blob_chunks WHERE digest = ? AND idx = ?"));
    GRAFT_RETURN_IF_ERROR(s.BindAll(name, idx));
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return VerificationFailed("blob sha256:" + name + " is missing chunk " + std::to_string(idx) +
                                " of " + std::to_string(chunks));
    }
    const std::string data = s.Blob(0);
    hash.Update(data);
    total += static_cast<int64_t>(data.size());
    GRAFT_RETURN_IF_ERROR(sink(data));
  }
  if (total != size) {
    return VerificationFailed("blob sha256:" + name + " has " + std::to_string(total) +
                              " bytes in its chunks, its row says " + std::to_string(size));
  }
  if (DigestHex(hash.Finish()) != name) {
    return VerificationFailed("blob sha256:" + name +
                              " does not match its digest (its content was altered)");
  }
  return Status::Ok();
}

void PostgresBlobStore::Remove(std::string_view hex) {
  // The rows of a change that did not commit were rolled back with it; nothing else removes
  // blobs (the writer role may not delete them).
  (void)hex;
}

std::vector<std::string> PostgresBlobStore::List() const {
  std::vector<std::string> out;
  Result<Statement> s = db_->Prepare("SELECT digest FROM blob_contents ORDER BY digest");
  if (!s.ok()) return out;
  for (;;) {
    Result<bool> row = s->Step();
    if (!row.ok() || !*row) break;
    out.push_back(s->Text(0));
  }
  return out;
}

}  // namespace graft::registry
