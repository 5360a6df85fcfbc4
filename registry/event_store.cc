#include "registry/event_store.h"

#include <cstring>

#include "registry/merkle_tree.h"

namespace graft::registry {

Status StoreEvent(Database& db, const Event& event) {
  GRAFT_RETURN_IF_ERROR(
      db.Run("INSERT INTO events(seq, body) VALUES(?, ?)", event.seq, event.body));
  // Store the leaf, then each parent this leaf completes (a right child completes its parent).
  Digest hash = MerkleLeafHash(event.body);
  int level = 0;
  uint64_t index = event.seq;
  const std::string insert = "INSERT INTO merkle_nodes(level, idx, hash) VALUES(?, ?, ?)";
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(Statement statement, db.Prepare(insert));
    GRAFT_RETURN_IF_ERROR(statement.BindAll(level, index));
    GRAFT_RETURN_IF_ERROR(statement.BindBlob(
        3, std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size())));
    GRAFT_RETURN_IF_ERROR(statement.Run());
    if (index % 2 == 0) break;
    GRAFT_ASSIGN_OR_RETURN(Digest left, StoredSubtree(db, level, index - 1));
    hash = MerkleNodeHash(left, hash);
    ++level;
    index /= 2;
  }
  return Status::Ok();
}

Result<Digest> StoredSubtree(Database& db, int level, uint64_t index) {
  GRAFT_ASSIGN_OR_RETURN(Statement statement,
                         db.Prepare("SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?"));
  GRAFT_RETURN_IF_ERROR(statement.BindAll(level, index));
  GRAFT_ASSIGN_OR_RETURN(bool row, statement.Step());
  std::string bytes = row ? statement.Blob(0) : std::string();
  if (bytes.size() != 32) {
    return VerificationFailed("stored tree hash (level " + std::to_string(level) + ", index " +
                              std::to_string(index) + ") is missing or malformed");
  }
  Digest digest{};
  std::memcpy(digest.data(), bytes.data(), digest.size());
  return digest;
}

Result<Event> AppendEventBody(Database& db, std::string body) {
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, EventLog(db).Size());
  Event event;
  event.seq = size;
  const std::string where = "event " + std::to_string(size);
  GRAFT_ASSIGN_OR_RETURN(event.json, ParseJson(body, where));
  GRAFT_ASSIGN_OR_RETURN(std::string canonical, CanonicalJson(event.json));
  if (canonical != body) return VerificationFailed(where + " is not canonical JSON");
  if (!event.json.is_object() || event.json.value("seq", Json()) != Json(size)) {
    return VerificationFailed(where + " does not carry its own sequence number");
  }
  event.body = std::move(body);
  GRAFT_RETURN_IF_ERROR(StoreEvent(db, event));
  return event;
}

}  // namespace graft::registry
