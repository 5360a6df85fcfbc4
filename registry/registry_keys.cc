// Registry keys: trusting and revoking keys, listing them, the trusted keys of a role.
#include "registry/authorisation.h"
#include "registry/registry.h"
#include "registry/registry_internal.h"

namespace graft::registry {

namespace {

constexpr char kKeyColumns[] =
    "SELECT key_id, role, algorithm, name, pem, trusted_seq, revoked_seq, revoke_reason FROM keys ";

KeyRecord ReadKey(const Statement& s) {
  KeyRecord k;
  k.key_id = s.Text(0);
  k.role = s.Text(1);
  k.algorithm = s.Text(2);
  k.name = s.Text(3);
  k.pem = s.Text(4);
  k.trusted_seq = static_cast<uint64_t>(s.Int(5));
  if (auto revoked = s.OptionalInt(6)) k.revoked_seq = static_cast<uint64_t>(*revoked);
  k.revoke_reason = s.Text(7);
  return k;
}

}  // namespace

Json KeyRecord::ToJson() const {
  Json out = {{"key_id", key_id},           {"role", role},
              {"algorithm", algorithm},     {"name", name},
              {"trusted_seq", trusted_seq}, {"revoked", revoked_seq.has_value()}};
  if (revoked_seq) {
    out["revoked_seq"] = *revoked_seq;
    out["revoke_reason"] = revoke_reason;
  }
  return out;
}

Result<std::vector<KeyRecord>> Registry::Keys() {
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         db().Prepare(std::string(kKeyColumns) + "ORDER BY trusted_seq, role"));
  std::vector<KeyRecord> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadKey(s));
  }
  return out;
}

Result<std::vector<PublicKey>> Registry::TrustedKeys(const std::string& role) {
  GRAFT_ASSIGN_OR_RETURN(Statement s, db().Prepare(std::string(kKeyColumns) +
                                                   "WHERE role = ? AND revoked_seq IS NULL"));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, role));
  std::vector<PublicKey> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    KeyRecord record = ReadKey(s);
    GRAFT_ASSIGN_OR_RETURN(PublicKey key, PublicKey::FromPem(record.pem, "key " + record.key_id));
    if (key.key_id() != record.key_id) {
      return VerificationFailed("trusted key " + record.key_id + " does not match its PEM");
    }
    out.push_back(std::move(key));
  }
  return out;
}

Result<KeyRecord> Registry::TrustKey(const PublicKey& key, const std::string& role,
                                     const std::string& name) {
  if (!IsKeyRole(role) || role == "registry") {
    return InvalidInput("unknown key role \"" + role +
                        "\" (trainer, evaluator, approver, release, curator, admin)");
  }
  KeyRecord record;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    GRAFT_ASSIGN_OR_RETURN(std::vector<KeyRecord> keys, Keys());
    for (const KeyRecord& k : keys) {
      if (k.key_id != key.key_id()) continue;
      if (k.revoked_seq) {
        return Conflict("key " + k.key_id + " was revoked at event " +
                        std::to_string(*k.revoked_seq) + " and cannot be trusted again");
      }
      if (k.role == role) {
        record = k;
        return Status::Ok();
      }
    }
    GRAFT_RETURN_IF_ERROR(change.Append("key.trust", KeyTrustDetails(key, role, name)).status());
    GRAFT_ASSIGN_OR_RETURN(keys, Keys());
    for (const KeyRecord& k : keys) {
      if (k.key_id == key.key_id() && k.role == role) record = k;
    }
    return Status::Ok();
  }));
  return record;
}

Result<KeyRecord> Registry::RevokeKey(const std::string& key_ref, const std::string& reason) {
  if (reason.empty()) return InvalidInput("a revocation needs a reason");
  KeyRecord record;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    Result<std::string> key_id = ResolveDigest("keys", "key_id", "", key_ref);
    if (!key_id.ok()) {
      return key_id.status().kind() == ErrorKind::kNotFound
                 ? NotFound("no trusted key matches \"" + key_ref + "\"")
                 : key_id.status();
    }
    GRAFT_ASSIGN_OR_RETURN(std::vector<KeyRecord> keys, Keys());
    for (const KeyRecord& k : keys) {
      if (k.key_id != *key_id) continue;
      if (k.revoked_seq) return Conflict("key " + k.key_id + " is already revoked");
      if (k.role == "registry") return Conflict("the registry's own key cannot be revoked");
    }
    GRAFT_RETURN_IF_ERROR(
        change.Append("key.revoke", {{"key_id", *key_id}, {"reason", reason}}).status());
    GRAFT_ASSIGN_OR_RETURN(keys, Keys());
    for (const KeyRecord& k : keys) {
      if (k.key_id == *key_id) record = k;
    }
    return Status::Ok();
  }));
  return record;
}

}  // namespace graft::registry
