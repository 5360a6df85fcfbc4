// EventLog: the append-only table of canonical-JSON events and its stored RFC 6962 subtree hashes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/keys.h"
#include "core/status.h"
#include "registry/database.h"
#include "registry/merkle_tree.h"

namespace graft::registry {

// One event as stored: `body` is the canonical JSON
// {"action","actor","details","seq","time"} (and "signature" for a signed change,
// registry/authorisation.h) and the Merkle leaf is SHA-256(0x00 ‖ body).
struct Event {
  uint64_t seq = 0;
  std::string body;
  Json json;
};

class EventLog {
 public:
  explicit EventLog(Database& db) : db_(&db) {}

  Result<uint64_t> Size();
  // Appends an event at seq = Size() and stores its leaf and every subtree it completes. The
  // caller holds the write transaction. `time` is RFC 3339 UTC (Now() when empty). With a
  // `signer`, the actor is its key id and the body carries its signature (SignEvent).
  Result<Event> Append(std::string_view action, std::string_view actor, const Json& details,
                       std::string time = {}, const PrivateKey* signer = nullptr);
  Result<Event> Get(uint64_t seq);

  // Trees over the stored subtree hashes (no recomputation).
  MerkleTree Tree();
  Result<Digest> RootHash(uint64_t size) { return Tree().RootHash(size); }

  // RFC 3339 UTC with milliseconds.
  static std::string Now();

 private:
  Result<Digest> Subtree(int level, uint64_t index);
  Database* db_;
};

}  // namespace graft::registry
