#include "policies/run_announcements.h"

#include <algorithm>
#include <random>
#include <set>
#include <span>

#include "core/dsse.h"
#include "core/encoding.h"
#include "registry/merkle_tree.h"
#include "registry/provenance.h"
#include "registry/vocabulary.h"

namespace graft::policies {
namespace {

bool IsDigest(const std::string& text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Result<Announcement> FromEvent(const registry::Event& event) {
  const std::string where = "event " + std::to_string(event.seq);
  Announcement a;
  a.seq = event.seq;
  a.time = event.json.value("time", "");
  a.key_id = event.json.value("actor", "");
  const Json details = event.json.value("details", Json::object());
  GRAFT_ASSIGN_OR_RETURN(a.plan.run_id, JsonString(details, "run_id", where));
  GRAFT_ASSIGN_OR_RETURN(a.plan.base, JsonString(details, "base", where));
  GRAFT_ASSIGN_OR_RETURN(a.plan.policy, JsonString(details, "policy", where));
  a.plan.config = details.value("config", Json()).is_string() ? details["config"].get<std::string>()
                                                              : std::string();
  if (details.value("datasets", Json()).is_array()) {
    for (const Json& d : details["datasets"]) {
      if (d.is_string()) a.plan.datasets.push_back(d.get<std::string>());
    }
  }
  return a;
}

}  // namespace

Json AnnouncementReference::ToJson() const {
  Json proof = Json::array();
  for (const Digest& d : inclusion_proof) proof.push_back(DigestHex(d));
  return {{"seq", seq}, {"run_id", run_id}, {"checkpoint", checkpoint}, {"inclusion_proof", proof}};
}

Result<AnnouncementReference> AnnouncementReference::FromJson(const Json& json,
                                                              const std::string& where) {
  if (!json.is_object()) return InvalidInput(where + ": expected an object");
  AnnouncementReference out;
  GRAFT_ASSIGN_OR_RETURN(const Json* seq, JsonField(json, "seq", where));
  if (!seq->is_number_unsigned()) return InvalidInput(where + ": seq must be an event number");
  out.seq = seq->get<uint64_t>();
  GRAFT_ASSIGN_OR_RETURN(out.run_id, JsonString(json, "run_id", where));
  GRAFT_ASSIGN_OR_RETURN(out.checkpoint, JsonString(json, "checkpoint", where));
  GRAFT_ASSIGN_OR_RETURN(const Json* proof, JsonField(json, "inclusion_proof", where));
  // A path has one hash per tree level: 64 covers any log.
  if (!proof->is_array() || proof->size() > 64) {
    return InvalidInput(where + ": inclusion_proof must be an array of at most 64 hashes");
  }
  for (const Json& hash : *proof) {
    Result<Digest> digest = InvalidInput("not a string");
    if (hash.is_string()) digest = ParseDigestHex(hash.get<std::string>());
    if (!digest.ok()) {
      return InvalidInput(where + ": inclusion_proof holds something other than a SHA-256 hash");
    }
    out.inclusion_proof.push_back(*digest);
  }
  return out;
}

Json Announcement::ToJson() const {
  return {{"seq", seq},
          {"time", time},
          {"key_id", key_id},
          {"run_id", plan.run_id},
          {"base", "sha256:" + plan.base},
          {"datasets", plan.datasets},
          {"config", plan.config.empty() ? Json() : Json("sha256:" + plan.config)},
          {"policy", "sha256:" + plan.policy}};
}

Result<Announcement> RunAnnouncements::Announce(RunPlan plan, const PrivateKey& trainer_key) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::KeyRecord> keys, registry_.Keys());
  bool trusted = false;
  for (const registry::KeyRecord& k : keys) {
    if (k.key_id != trainer_key.key_id()) continue;
    if (k.revoked_seq) {
      return VerificationFailed("key " + k.key_id + " was revoked at event " +
                                std::to_string(*k.revoked_seq) + "; it cannot announce a run");
    }
    trusted = trusted || k.role == registry::kTrainerRole;
  }
  if (!trusted) {
    return VerificationFailed("key " + trainer_key.key_id() +
                              " is not a trusted trainer key (graft key trust --role trainer)");
  }
  for (const std::string* digest : {&plan.base, &plan.policy}) {
    if (!IsDigest(*digest)) return InvalidInput("not a SHA-256 digest: \"" + *digest + "\"");
  }
  GRAFT_RETURN_IF_ERROR(registry_.Resolve(registry::kPolicyKind, plan.policy).status());
  std::sort(plan.datasets.begin(), plan.datasets.end());
  if (plan.run_id.empty()) {
    std::random_device device;
    uint8_t bytes[16];
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(device());
    plan.run_id = HexEncode(std::span<const uint8_t>(bytes, 16));
  }
  Json details = {{"run_id", plan.run_id},
                  {"base", plan.base},
                  {"datasets", plan.datasets},
                  {"policy", plan.policy}};
  if (!plan.config.empty()) details["config"] = plan.config;
  GRAFT_ASSIGN_OR_RETURN(uint64_t seq,
                         registry_.AppendEvent(registry::kRunAnnounceEvent, details, &trainer_key));
  GRAFT_ASSIGN_OR_RETURN(registry::Event event, registry_.GetEvent(seq));
  return FromEvent(event);
}

Result<std::vector<Announcement>> RunAnnouncements::List(const std::string& policy_digest) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::Event> events,
                         registry_.EventsWithAction(registry::kRunAnnounceEvent));
  std::vector<Announcement> out;
  for (const registry::Event& event : events) {
    GRAFT_ASSIGN_OR_RETURN(Announcement a, FromEvent(event));
    if (policy_digest.empty() || a.plan.policy == policy_digest) out.push_back(std::move(a));
  }
  return out;
}

Result<AnnouncementReference> RunAnnouncements::Reference(const Announcement& announcement) {
  GRAFT_ASSIGN_OR_RETURN(std::string note, registry_.LatestCheckpoint());
  GRAFT_ASSIGN_OR_RETURN(registry::Checkpoint checkpoint, registry_.VerifyCheckpoint(note));
  GRAFT_ASSIGN_OR_RETURN(registry::InclusionProof proof,
                         registry_.ProveInclusion(announcement.seq, checkpoint.size));
  if (proof.root != checkpoint.root) {
    return VerificationFailed("the registry's latest checkpoint (size " +
                              std::to_string(checkpoint.size) + ") does not match its log");
  }
  return AnnouncementReference{.seq = announcement.seq,
                               .run_id = announcement.plan.run_id,
                               .checkpoint = std::move(note),
                               .inclusion_proof = std::move(proof.path)};
}

Result<AnnouncementCheck> RunAnnouncements::For(const registry::ObjectRecord& adapter) {
  AnnouncementCheck check;
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::AttestationRecord> records,
                         registry_.Attestations(adapter.digest, registry::kProvenanceAttestation));
  if (records.empty()) return check;
  GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope, registry_.LoadAttestation(records.front().digest));
  GRAFT_ASSIGN_OR_RETURN(
      registry::Provenance provenance,
      registry::Provenance::Parse(envelope.Serialize(),
                                  "the provenance of adapter sha256:" + adapter.digest));
  auto named = provenance.external_parameters.find("announcement");
  if (named == provenance.external_parameters.end()) return check;
  Result<AnnouncementReference> reference =
      AnnouncementReference::FromJson(*named, "its externalParameters.announcement");
  if (!reference.ok()) {
    check.problem = reference.status().message();
    return check;
  }
  check.named_seq = reference->seq;
  Result<Announcement> verified = Verify(adapter, provenance, records.front().key_ids, *reference);
  if (!verified.ok()) {
    if (verified.status().kind() != ErrorKind::kVerification &&
        verified.status().kind() != ErrorKind::kInvalidInput &&
        verified.status().kind() != ErrorKind::kNotFound) {
      return verified.status();
    }
    check.problem = verified.status().message();
    return check;
  }
  check.announcement = std::move(*verified);
  return check;
}

Result<Announcement> RunAnnouncements::Verify(const registry::ObjectRecord& adapter,
                                              const registry::Provenance& provenance,
                                              const std::vector<std::string>& signers,
                                              const AnnouncementReference& reference) {
  const std::string at = "event " + std::to_string(reference.seq);
  GRAFT_ASSIGN_OR_RETURN(registry::Checkpoint checkpoint,
                         registry_.VerifyCheckpoint(reference.checkpoint));
  const std::string size = std::to_string(checkpoint.size);
  if (reference.seq >= checkpoint.size) {
    return VerificationFailed(at + " is not in the checkpoint it names (size " + size + ")");
  }
  GRAFT_ASSIGN_OR_RETURN(uint64_t log_size, registry_.LogSize());
  if (checkpoint.size > log_size) {
    return VerificationFailed("its checkpoint has " + size + " events, the log only " +
                              std::to_string(log_size));
  }
  GRAFT_ASSIGN_OR_RETURN(registry::InclusionProof stored,
                         registry_.ProveInclusion(reference.seq, checkpoint.size));
  if (stored.root != checkpoint.root) {
    return VerificationFailed("its checkpoint (size " + size + ") does not match the log");
  }
  if (!registry::VerifyInclusion(stored.leaf_hash, reference.seq, checkpoint.size,
                                 reference.inclusion_proof, checkpoint.root)) {
    return VerificationFailed("its inclusion proof does not place the logged " + at +
                              " under its checkpoint (size " + size + ")");
  }
  GRAFT_ASSIGN_OR_RETURN(registry::Event event, registry_.GetEvent(reference.seq));
  const std::string action = event.json.value("action", "");
  if (action != registry::kRunAnnounceEvent) {
    return VerificationFailed(at + " is a \"" + action + "\" event, not " +
                              registry::kRunAnnounceEvent);
  }
  GRAFT_ASSIGN_OR_RETURN(Announcement announced, FromEvent(event));
  if (announced.plan.run_id != reference.run_id) {
    return VerificationFailed(at + " announced run " + announced.plan.run_id + ", not " +
                              reference.run_id);
  }
  if (std::find(signers.begin(), signers.end(), announced.key_id) == signers.end()) {
    return VerificationFailed(at + " was signed by key " + announced.key_id +
                              ", which did not sign the provenance");
  }
  if (announced.seq >= adapter.created_seq) {
    return VerificationFailed(at + " is not before the adapter's registration (event " +
                              std::to_string(adapter.created_seq) + ")");
  }
  std::vector<std::string> datasets;
  for (const registry::Provenance::Dependency& d : provenance.dependencies) {
    if (d.role == "dataset") datasets.push_back(d.digest);
  }
  std::sort(datasets.begin(), datasets.end());
  datasets.erase(std::unique(datasets.begin(), datasets.end()), datasets.end());
  std::vector<std::string> announced_datasets = announced.plan.datasets;
  announced_datasets.erase(std::unique(announced_datasets.begin(), announced_datasets.end()),
                           announced_datasets.end());
  const Json config = provenance.external_parameters.value("config_sha256", Json());
  std::string differs;
  if (announced.plan.base != provenance.Find("base").value_or("")) differs = "base";
  if (announced.plan.policy != provenance.Find("policy").value_or("")) differs = "policy";
  if (announced_datasets != datasets) differs = "datasets";
  if (!announced.plan.config.empty() && config.is_string() &&
      announced.plan.config != config.get<std::string>()) {
    differs = "config";
  }
  if (!differs.empty()) {
    return VerificationFailed(at + " announced another " + differs + " than the provenance names");
  }
  return announced;
}

}  // namespace graft::policies
