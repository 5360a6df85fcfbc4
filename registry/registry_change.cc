// Registry::Change: the open write transaction of one Mutate call.
#include <algorithm>

#include "core/manifest.h"
#include "registry/authorisation.h"
#include "registry/registry_internal.h"

namespace graft::registry {

Registry::Change::Change(State& state) : state_(state), log_(state.db), projection_(state.db) {}

Result<Event> Registry::Change::Append(std::string_view action, const Json& details,
                                       std::string actor, const PrivateKey* signer) {
  const std::vector<std::string_view> roles = RolesFor(action, details);
  if (actor.empty() || !roles.empty()) {
    std::vector<const PrivateKey*> candidates;
    if (signer != nullptr) {
      candidates.push_back(signer);
    } else {
      for (const PrivateKey& key : state_.actor_keys) candidates.push_back(&key);
    }
    GRAFT_ASSIGN_OR_RETURN(signer, ChooseSigner(action, roles, candidates));
  }
  GRAFT_ASSIGN_OR_RETURN(
      Event event, log_.Append(action, actor.empty() ? state_.actor : actor, details, {}, signer));
  GRAFT_RETURN_IF_ERROR(projection_.Apply(event));
  appended_ = true;
  return event;
}

Result<std::string> Registry::Change::PutBlob(std::string_view bytes) {
  bool created = false;
  GRAFT_ASSIGN_OR_RETURN(std::string digest, state_.blobs->Put(bytes, &created));
  if (created) created_blobs_.push_back(digest);
  return digest;
}

Result<Json> Registry::Change::AdoptFiles(const Intake& intake, Json& blobs) {
  adopted_files_ = true;
  Json files = Json::array();
  for (const ManifestEntry& entry : intake.manifest().entries) {
    bool created = false;
    GRAFT_ASSIGN_OR_RETURN(
        std::string digest,
        state_.blobs->Adopt(intake.PathOf(entry.path), DigestHex(entry.digest), &created));
    if (created) created_blobs_.push_back(digest);
    files.push_back({{"path", entry.path}, {"blob", digest}, {"size", entry.size}});
    blobs.push_back(BlobEntry(digest, entry.size));
  }
  return files;
}

void Registry::Change::UndoSince(Mark mark) {
  for (size_t i = mark.created_blobs; i < created_blobs_.size(); ++i) {
    state_.blobs->Remove(created_blobs_[i]);
  }
  created_blobs_.resize(mark.created_blobs);
  appended_ = mark.appended;
}

Result<const PrivateKey*> Registry::Change::ChooseSigner(
    std::string_view action, const std::vector<std::string_view>& roles,
    const std::vector<const PrivateKey*>& candidates) {
  const PrivateKey* first = candidates.empty() ? nullptr : candidates.front();
  if (roles.empty()) return first;
  std::string why;
  for (const PrivateKey* candidate : candidates) {
    const PrivateKey& key = *candidate;
    GRAFT_ASSIGN_OR_RETURN(Statement s,
                           state_.db.Prepare("SELECT role, revoked_seq, revoke_reason FROM keys "
                                             "WHERE key_id = ? ORDER BY trusted_seq"));
    GRAFT_RETURN_IF_ERROR(s.Bind(1, key.key_id()));
    std::string held;
    for (;;) {
      GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      if (auto revoked = s.OptionalInt(1)) {
        held = "revoked at event " + std::to_string(*revoked) + " (" + s.Text(2) + ")";
        break;
      }
      if (std::find(roles.begin(), roles.end(), s.Text(0)) != roles.end()) return candidate;
      held += (held.empty() ? "role " : ", ") + s.Text(0);
    }
    why += "; key " + key.key_id() + (held.empty() ? " is not trusted here" : " has " + held);
  }
  if (!state_.guarded || state_.genesis) return first;
  std::string wanted;
  for (std::string_view role : roles) wanted += (wanted.empty() ? "" : " or ") + std::string(role);
  if (candidates.empty()) {
    return InvalidInput(std::string(action) + " must be signed by a key with role " + wanted +
                        ": pass --key FILE or set GRAFT_KEY");
  }
  return VerificationFailed(std::string(action) + " must be signed by a trusted key with role " +
                            wanted + why);
}

}  // namespace graft::registry
