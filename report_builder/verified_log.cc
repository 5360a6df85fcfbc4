#include "report_builder/verified_log.h"

#include "core/encoding.h"
#include "registry/merkle_tree.h"

namespace graft::report_builder {
namespace {

// Adds `seq` to the entry of every SHA-256 digest (64 hex digits, "sha256:" optional) in `json`.
void IndexDigests(const Json& json, uint64_t seq,
                  std::unordered_map<std::string, std::vector<uint64_t>>& naming) {
  if (json.is_structured()) {
    for (const Json& item : json) IndexDigests(item, seq, naming);
    return;
  }
  if (!json.is_string()) return;
  std::string_view text = json.get_ref<const std::string&>();
  if (text.starts_with("sha256:")) text.remove_prefix(7);
  if (text.size() != 64) return;
  std::vector<uint64_t>& seqs = naming[std::string(text)];
  if (seqs.empty() || seqs.back() != seq) seqs.push_back(seq);
}

}  // namespace

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
    if (event.json.is_object() && event.json.contains("details")) {
      IndexDigests(event.json["details"], seq, log.naming_);
    }
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

Result<bool> VerifiedLog::ProvesInclusion(uint64_t seq, registry::Registry& registry) const {
  if (!checkpoint_.verified || seq >= events_.size()) return false;
  GRAFT_ASSIGN_OR_RETURN(registry::InclusionProof proof,
                         registry.ProveInclusion(seq, static_cast<uint64_t>(checkpoint_.size)));
  return registry::VerifyInclusion(registry::MerkleLeafHash(events_[seq].body), seq,
                                   static_cast<uint64_t>(checkpoint_.size), proof.path, root_);
}

std::vector<uint64_t> VerifiedLog::EventsNaming(const std::set<std::string>& digests) const {
  std::set<uint64_t> seqs;
  for (const std::string& digest : digests) {
    auto it = naming_.find(digest);
    if (it != naming_.end()) seqs.insert(it->second.begin(), it->second.end());
  }
  return {seqs.begin(), seqs.end()};
}

}  // namespace graft::report_builder
