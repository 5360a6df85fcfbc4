// Registry event log: generic events, the log's size and events, checkpoints and Merkle proofs.
#include <regex>

#include "registry/projection.h"
#include "registry/registry.h"
#include "registry/registry_internal.h"

namespace graft::registry {

Result<uint64_t> Registry::AppendEvent(const std::string& action, const Json& details,
                                       const PrivateKey* signer) {
  static const std::regex kAction("[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)+");
  if (!std::regex_match(action, kAction)) {
    return InvalidInput("event action \"" + action + "\" must look like \"group.verb\"");
  }
  if (Projection::Changes(action)) {
    return InvalidInput("event action \"" + action +
                        "\" is reserved; use the Registry method that makes that change");
  }
  uint64_t seq = 0;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    GRAFT_ASSIGN_OR_RETURN(Event event, change.Append(action, details, "", signer));
    seq = event.seq;
    return Status::Ok();
  }));
  return seq;
}

Result<uint64_t> Registry::LogSize() { return EventLog(db()).Size(); }

Result<Event> Registry::GetEvent(uint64_t seq) { return EventLog(db()).Get(seq); }

Result<std::string> Registry::LatestCheckpoint() {
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         db().Prepare("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1"));
  GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound("the registry has no checkpoint");
  return s.Text(0);
}

Result<Checkpoint> Registry::VerifyCheckpoint(std::string_view note) {
  GRAFT_ASSIGN_OR_RETURN(Checkpoint checkpoint,
                         Checkpoint::ParseAndVerify(note, origin(), registry_key()));
  if (checkpoint.origin != origin()) {
    return VerificationFailed("checkpoint is for log \"" + checkpoint.origin + "\", not \"" +
                              origin() + "\"");
  }
  return checkpoint;
}

Result<InclusionProof> Registry::ProveInclusion(uint64_t seq, uint64_t size) {
  EventLog log(db());
  if (size == 0) {
    GRAFT_ASSIGN_OR_RETURN(size, log.Size());
  }
  GRAFT_ASSIGN_OR_RETURN(Event event, log.Get(seq));
  InclusionProof proof;
  proof.index = seq;
  proof.size = size;
  proof.leaf_hash = MerkleLeafHash(event.body);
  MerkleTree tree = log.Tree();
  GRAFT_ASSIGN_OR_RETURN(proof.path, tree.InclusionProof(seq, size));
  GRAFT_ASSIGN_OR_RETURN(proof.root, tree.RootHash(size));
  return proof;
}

Result<std::vector<Digest>> Registry::ProveConsistency(uint64_t old_size, uint64_t new_size) {
  EventLog log(db());
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, log.Size());
  if (new_size > size) {
    return InvalidInput("the log has " + std::to_string(size) + " events, not " +
                        std::to_string(new_size));
  }
  return log.Tree().ConsistencyProof(old_size, new_size);
}

}  // namespace graft::registry
