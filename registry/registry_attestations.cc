// Registry attestations: verified DSSE envelopes recorded for a subject.
#include "core/intoto.h"
#include "registry/registry.h"
#include "registry/registry_internal.h"

namespace graft::registry {

namespace {

AttestationRecord ReadAttestation(const Statement& s) {
  AttestationRecord a;
  a.digest = s.Text(0);
  a.kind = s.Text(1);
  a.subject = s.Text(2);
  a.predicate_type = s.Text(3);
  Result<Json> ids = ParseJson(s.Text(4), "attestation key_ids");
  if (ids.ok() && ids->is_array()) {
    for (const Json& id : *ids) {
      if (id.is_string()) a.key_ids.push_back(id.get<std::string>());
    }
  }
  a.seq = static_cast<uint64_t>(s.Int(5));
  return a;
}

}  // namespace

Json AttestationRecord::ToJson() const {
  return {{"digest", "sha256:" + digest},     {"kind", kind},       {"subject", subject},
          {"predicate_type", predicate_type}, {"key_ids", key_ids}, {"seq", seq}};
}

Result<AttestationRecord> Registry::AddAttestation(const std::string& kind,
                                                   const DsseEnvelope& envelope,
                                                   const std::string& subject,
                                                   const std::string& role,
                                                   const std::vector<Edge>& edges) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<PublicKey> keys, TrustedKeys(role));
  Result<std::vector<std::string>> signers = DsseVerify(envelope, keys);
  if (!signers.ok()) {
    return VerificationFailed(kind + " attestation: not signed by a trusted " + role +
                              " key: " + signers.status().message());
  }
  std::string predicate_type = envelope.payload_type;
  if (envelope.payload_type == kInTotoPayloadType) {
    GRAFT_ASSIGN_OR_RETURN(InTotoStatement statement,
                           InTotoStatement::Parse(envelope.payload, kind + " attestation"));
    predicate_type = statement.predicate_type;
  }
  std::string serialized = envelope.Serialize();
  std::string digest = Sha256Hex(serialized);
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    GRAFT_ASSIGN_OR_RETURN(std::vector<AttestationRecord> existing,
                           Attestations(StripSha256(subject), kind));
    for (const AttestationRecord& a : existing) {
      if (a.digest == digest) return Status::Ok();
    }
    GRAFT_RETURN_IF_ERROR(change.PutBlob(serialized).status());
    Json details = {{"digest", digest},
                    {"kind", kind},
                    {"subject", StripSha256(subject)},
                    {"predicate_type", predicate_type},
                    {"key_ids", *signers},
                    {"blobs", Json::array({BlobEntry(digest, serialized.size())})},
                    {"edges", EdgesJson(edges)}};
    return change.Append("attestation.add", details, signers->front()).status();
  }));
  GRAFT_ASSIGN_OR_RETURN(std::vector<AttestationRecord> all,
                         Attestations(StripSha256(subject), kind));
  for (AttestationRecord& a : all) {
    if (a.digest == digest) return a;
  }
  return InternalError("attestation sha256:" + digest + " was not recorded");
}

Result<std::vector<AttestationRecord>> Registry::Attestations(const std::string& subject,
                                                              const std::string& kind) {
  GRAFT_ASSIGN_OR_RETURN(
      Statement s,
      db().Prepare("SELECT digest, kind, subject, predicate_type, key_ids, seq FROM attestations "
                   "WHERE subject = ?1 AND (?2 = '' OR kind = ?2) ORDER BY seq"));
  GRAFT_RETURN_IF_ERROR(s.BindAll(StripSha256(subject), kind));
  std::vector<AttestationRecord> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadAttestation(s));
  }
  return out;
}

Result<DsseEnvelope> Registry::LoadAttestation(const std::string& digest) {
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadBlob(digest));
  return DsseEnvelope::Parse(text, "attestation sha256:" + StripSha256(digest));
}

}  // namespace graft::registry
