#include "report_builder/verified_log.h"

#include "core/encoding.h"
#include "registry/merkle_tree.h"

namespace graft {

Result<VerifiedLog> VerifiedLog::Load(registry::Registry& registry) {
  VerifiedLog log(registry);
  GRAFT_ASSIGN_OR_RETURN(std::string note, registry.LatestCheckpoint());
  // The note's own lines name what it claims, whether or not its signature holds.
  const size_t origin_end = note.find('\n');
  const size_t size_end = note.find('\n', origin_end + 1);
  const size_t root_end = note.find('\n', size_end + 1);
  if (root_end == std::string::npos)
    return VerificationFailed("the latest checkpoint is malformed");
  log.checkpoint_.origin = note.substr(0, origin_end);
  log.checkpoint_.root = note.substr(size_end + 1, root_end - size_end - 1);

  GRAFT_ASSIGN_OR_RETURN(uint64_t log_size, registry.LogSize());
  for (uint64_t seq = 0; seq < log_size; ++seq) {
    GRAFT_ASSIGN_OR_RETURN(registry::Event event, registry.GetEvent(seq));
    log.events_.push_back(std::move(event));
  }
  Result<registry::Checkpoint> verified = registry.VerifyCheckpoint(note);
  if (!verified.ok()) {
    log.problem_ = "checkpoint signature: " + verified.status().message();
    return log;
  }
  log.checkpoint_.size = static_cast<int64_t>(verified->size);
  log.root_ = verified->root;
  if (verified->size != log_size) {
    log.problem_ = "the latest checkpoint covers " + std::to_string(verified->size) +
                   " events but the log has " + std::to_string(log_size);
    return log;
  }
  registry::InMemoryMerkleTree tree;
  for (const registry::Event& event : log.events_)
    tree.Append(registry::MerkleLeafHash(event.body));
  GRAFT_ASSIGN_OR_RETURN(Digest recomputed, tree.Tree().RootHash(log_size));
  if (recomputed != verified->root) {
    log.problem_ = "the root recomputed from the events (" +
                   Base64Encode(AsChars(std::span<const uint8_t>(recomputed))) +
                   ") is not the checkpoint's";
    return log;
  }
  log.checkpoint_.verified = true;
  return log;
}

Result<bool> VerifiedLog::ProvesInclusion(uint64_t seq) {
  if (!checkpoint_.verified || seq >= events_.size()) return false;
  GRAFT_ASSIGN_OR_RETURN(registry::InclusionProof proof,
                         registry_->ProveInclusion(seq, static_cast<uint64_t>(checkpoint_.size)));
  return registry::VerifyInclusion(registry::MerkleLeafHash(events_[seq].body), seq,
                                   static_cast<uint64_t>(checkpoint_.size), proof.path, root_);
}

}  // namespace graft
