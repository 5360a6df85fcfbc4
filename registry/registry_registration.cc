// Registry registration: bases, datasets, adapters and single-file objects, each checked on its
// staged copy (registry/intake.h) and stored in one change.
#include <algorithm>
#include <functional>

#include "core/file_names.h"
#include "core/file_util.h"
#include "core/manifest.h"
#include "core/oms_signature.h"
#include "registry/adapter_spec.h"
#include "registry/model_architecture.h"
#include "registry/names.h"
#include "registry/projection.h"
#include "registry/provenance.h"
#include "registry/registry.h"
#include "registry/registry_internal.h"

namespace graft::registry {
namespace fs = std::filesystem;

namespace {

// The number of records in a JSONL dataset, each line one JSON object; `file` names it.
Result<int64_t> CountJsonlRecords(const std::string& bytes, const fs::path& file) {
  int64_t records = 0;
  size_t start = 0;
  int64_t line_number = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    ++line_number;
    std::string where = file.string() + ":" + std::to_string(line_number);
    std::string_view line(bytes.data() + start, end - start);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      return InvalidInput(where + ": empty line (JSONL has one JSON object per line)");
    }
    GRAFT_ASSIGN_OR_RETURN(Json value, ParseJson(line, where));
    if (!value.is_object()) return InvalidInput(where + ": expected a JSON object");
    ++records;
    start = end + 1;
  }
  if (records == 0) return InvalidInput(file.string() + ": no records");
  return records;
}

// The names a base goes by in messages: "tiny-gpt2@1 (sha256:0123abcd...)".
std::string BaseLabel(const ObjectRecord& base) {
  std::string short_digest = "sha256:" + base.digest.substr(0, 12);
  return base.labels.empty() ? short_digest : base.labels.back() + " (" + short_digest + ")";
}

// What a staged adapter's files say about it, before anything is verified.
struct StagedAdapter {
  AdapterSpec spec;
  std::string digest;  // the root digest of its files but the signature and provenance
  bool has_signature = false;
  std::optional<Provenance> provenance{};
};

// The files an adapter's identity leaves out: they name the adapter, so cannot be part of it.
const std::vector<std::string>& AdapterIdentityIgnore() {
  static const std::vector<std::string> ignore = {std::string(kSignatureFile),
                                                  std::string(kProvenanceFile)};
  return ignore;
}

Result<StagedAdapter> ReadStagedAdapter(const Intake& intake) {
  const fs::path& dir = intake.dir();
  GRAFT_ASSIGN_OR_RETURN(AdapterSpec spec, AdapterSpec::Read(dir));
  const std::vector<std::string>& ignore = AdapterIdentityIgnore();
  Manifest identity;
  for (const ManifestEntry& entry : intake.manifest().entries) {
    if (std::find(ignore.begin(), ignore.end(), entry.path) == ignore.end()) {
      identity.entries.push_back(entry);
    }
  }
  StagedAdapter adapter{.spec = std::move(spec), .digest = identity.RootDigestHex()};
  std::error_code error;
  adapter.has_signature = fs::exists(dir / kSignatureFile, error);
  if (fs::exists(dir / kProvenanceFile, error)) {
    fs::path path = dir / kProvenanceFile;
    GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 64 << 20));
    GRAFT_ASSIGN_OR_RETURN(adapter.provenance, Provenance::Parse(text, path.string()));
  }
  return adapter;
}

// The adapter's base: --base; else the base digest in the provenance (verified later with its
// signature); else adapter_config.json's base_model_name_or_path, a hint.
Result<ObjectRecord> ResolveAdapterBase(Registry& registry, const StagedAdapter& adapter,
                                        const AdapterOptions& options, const fs::path& source) {
  std::string base_ref = options.base_ref;
  std::string base_from = "--base";
  if (base_ref.empty() && adapter.provenance && adapter.provenance->Find("base")) {
    base_ref = *adapter.provenance->Find("base");
    base_from = "its provenance";
  }
  if (base_ref.empty()) {
    base_ref = adapter.spec.lora.base_model_name_or_path;
    base_from = "adapter_config.json's base_model_name_or_path";
  }
  if (base_ref.empty()) {
    return InvalidInput(source.string() +
                        ": adapter_config.json names no base_model_name_or_path; pass --base REF");
  }
  Result<ObjectRecord> base = registry.Resolve("base", base_ref);
  if (!base.ok()) {
    return base.status().WithContext("the adapter's base \"" + base_ref + "\" (from " + base_from +
                                     "; register it with 'graft base register', or pass --base)");
  }
  return base;
}

// How the adapter fits `base`; when it does not, the error names the bases it fits.
Result<AdapterSpec::Fit> CheckAdapterFits(Registry& registry, const AdapterSpec& spec,
                                          const ObjectRecord& base) {
  GRAFT_ASSIGN_OR_RETURN(ModelArchitecture arch,
                         ModelArchitecture::FromConfig(base.Info()["config"], "base config"));
  Result<AdapterSpec::Fit> fit = spec.CheckAgainst(arch, BaseLabel(base));
  if (fit.ok()) return fit;
  std::string hint;
  ObjectFilter all_bases;
  all_bases.kind = "base";
  GRAFT_ASSIGN_OR_RETURN(std::vector<ObjectRecord> bases, registry.List(all_bases));
  for (const ObjectRecord& other : bases) {
    if (other.digest == base.digest) continue;
    Result<ModelArchitecture> other_arch =
        ModelArchitecture::FromConfig(other.Info()["config"], "base config");
    if (other_arch.ok() && spec.CheckAgainst(*other_arch, BaseLabel(other)).ok()) {
      hint += (hint.empty() ? "; it fits base " : ", ") + BaseLabel(other);
    }
  }
  return Status(fit.status().kind(), fit.status().message() + hint);
}

// An adapter without a signature or provenance is registered only with --unattested.
Status CheckAttestedOrAllowed(const StagedAdapter& adapter, const AdapterOptions& options,
                              const fs::path& source) {
  if ((adapter.has_signature && adapter.provenance) || options.unattested) return Status::Ok();
  return InvalidInput(
      source.string() + " has no " +
      (!adapter.has_signature ? std::string(kSignatureFile) : std::string(kProvenanceFile)) +
      "; pass --unattested to register it anyway (it is then marked "
      "unattested everywhere)");
}

// The trainer keys an adapter's signatures must verify with, and every trainer key ever trusted.
struct TrainerKeys {
  static Result<TrainerKeys> Load(Registry& registry) {
    TrainerKeys keys;
    GRAFT_ASSIGN_OR_RETURN(keys.trusted, registry.TrustedKeys("trainer"));
    GRAFT_ASSIGN_OR_RETURN(keys.all, registry.Keys());
    return keys;
  }

  // When verification fails: " (it is signed by key K, revoked at event N: reason)" if a revoked
  // trainer key `verifies`, else "".
  std::string RevokedSigner(const std::function<bool(const PublicKey&)>& verifies) const {
    for (const KeyRecord& k : all) {
      if (k.role != "trainer" || !k.revoked_seq) continue;
      Result<PublicKey> pub = PublicKey::FromPem(k.pem);
      if (pub.ok() && verifies(*pub)) {
        return " (it is signed by key " + k.key_id + ", revoked at event " +
               std::to_string(*k.revoked_seq) + ": " + k.revoke_reason + ")";
      }
    }
    return std::string();
  }

  std::vector<PublicKey> trusted;
  std::vector<KeyRecord> all;
};

// An attestation to record with the adapter's first registration.
struct PendingAttestation {
  std::string kind, envelope, predicate_type;
  std::vector<std::string> key_ids;
};

// What the adapter's verified signature and provenance add to its registration.
struct AdapterEvidence {
  std::vector<Edge> edges;  // from the adapter: its base, signers and provenance dependencies
  std::vector<PendingAttestation> attestations{};
  std::string actor{};        // the key that signed the model signature, else the provenance
  Json provenance = nullptr;  // the provenance's summary
};

// Verifies model.sig against the trusted trainer keys and that it covers the adapter's files.
Status VerifyModelSignature(const fs::path& dir, const std::string& digest, const TrainerKeys& keys,
                            AdapterEvidence& evidence) {
  const fs::path path = dir / kSignatureFile;
  Result<OmsVerification> verified =
      OmsVerify(dir, path, keys.trusted, {std::string(kProvenanceFile)});
  if (!verified.ok()) {
    std::string revoked = keys.RevokedSigner([&](const PublicKey& key) {
      return OmsVerify(dir, path, {key}, {std::string(kProvenanceFile)}).ok();
    });
    return VerificationFailed(path.string() + ": " + verified.status().message() + revoked);
  }
  if (verified->manifest.RootDigestHex() != digest) {
    return VerificationFailed(path.string() + " covers a different set of files");
  }
  GRAFT_ASSIGN_OR_RETURN(std::string bundle_text, ReadFile(path));
  GRAFT_ASSIGN_OR_RETURN(Json bundle, ParseJson(bundle_text, kSignatureFile));
  GRAFT_ASSIGN_OR_RETURN(const Json* dsse, JsonField(bundle, "dsseEnvelope", kSignatureFile));
  GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope, DsseEnvelope::FromJson(*dsse, kSignatureFile));
  evidence.attestations.push_back({"model-signature",
                                   envelope.Serialize(),
                                   std::string(kOmsPredicateType),
                                   {verified->key_id}});
  evidence.edges.push_back({digest, "signed_by", verified->key_id});
  evidence.actor = verified->key_id;
  return Status::Ok();
}

// Verifies the provenance against the trusted trainer keys, and that it is about this adapter
// and `base`; its dependencies become lineage edges.
Status VerifyAdapterProvenance(const Provenance& provenance, const fs::path& source,
                               const std::string& digest, const ObjectRecord& base,
                               const TrainerKeys& keys, AdapterEvidence& evidence) {
  const fs::path path = source / kProvenanceFile;
  Result<std::vector<std::string>> signers = DsseVerify(provenance.envelope, keys.trusted);
  if (!signers.ok()) {
    std::string revoked = keys.RevokedSigner(
        [&](const PublicKey& key) { return DsseVerify(provenance.envelope, {key}).ok(); });
    return VerificationFailed(path.string() + ": " + signers.status().message() + revoked);
  }
  if (provenance.subject_digest != digest) {
    return VerificationFailed(path.string() + ": its subject is sha256:" +
                              provenance.subject_digest + ", but the adapter is sha256:" + digest);
  }
  if (*provenance.Find("base") != base.digest) {
    return VerificationFailed(path.string() + ": it names base sha256:" + *provenance.Find("base") +
                              ", but the adapter was checked against " + BaseLabel(base));
  }
  for (const Provenance::Dependency& dep : provenance.dependencies) {
    if (dep.role == "base") continue;
    evidence.edges.push_back(
        {digest, dep.role == "parent_adapter" ? "parent" : dep.role, dep.digest});
  }
  evidence.attestations.push_back(
      {"provenance", provenance.envelope.Serialize(), std::string(kSlsaProvenanceType), *signers});
  evidence.provenance = provenance.Summary();
  for (const std::string& signer : *signers)
    evidence.edges.push_back({digest, "signed_by", signer});
  if (evidence.actor.empty()) evidence.actor = signers->front();
  return Status::Ok();
}

}  // namespace

Result<ObjectRecord> Registry::AddObject(Change& change, std::string_view kind, Json details,
                                         const std::string& name, const std::string& actor) {
  std::string digest = details["digest"].get<std::string>();
  GRAFT_ASSIGN_OR_RETURN(std::optional<ObjectRecord> existing, Find(digest));
  if (existing && existing->kind != kind) {
    return Conflict("sha256:" + digest + " is already registered as a " + existing->kind);
  }
  Json label;
  if (!name.empty()) {
    GRAFT_ASSIGN_OR_RETURN(Statement s, db().Prepare("SELECT COALESCE(MAX(version), 0), "
                                                     "SUM(CASE WHEN digest = ?3 THEN 1 ELSE 0 END) "
                                                     "FROM labels WHERE kind = ?1 AND name = ?2"));
    GRAFT_RETURN_IF_ERROR(s.BindAll(std::string(kind), name, digest));
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    int64_t latest = row ? s.Int(0) : 0;
    bool already = row && !s.IsNull(1) && s.Int(1) > 0;
    if (!already) label = {{"name", name}, {"version", latest + 1}};
  }
  std::string kind_text(kind);
  if (!existing) {
    if (!label.is_null()) details["label"] = label;
    GRAFT_RETURN_IF_ERROR(change.Append(kind_text + ".register", details, actor).status());
  } else if (!label.is_null()) {
    GRAFT_RETURN_IF_ERROR(
        change.Append(kind_text + ".label", {{"digest", digest}, {"label", label}}, actor)
            .status());
  }
  return Get(digest);
}

Result<ObjectRecord> Registry::RegisterFile(std::string_view kind, const fs::path& file,
                                            const std::string& name, Json info,
                                            const std::vector<Edge>& edges) {
  if (!IsObjectKind(kind)) return InvalidInput("unknown object kind \"" + std::string(kind) + "\"");
  if (!name.empty()) GRAFT_RETURN_IF_ERROR(ValidateName(name, std::string(kind) + " name"));
  GRAFT_RETURN_IF_ERROR(Writable());
  GRAFT_ASSIGN_OR_RETURN(Intake intake, Intake::CopyFile(file, state_->staging));
  return RegisterStagedFile(kind, intake, file, name, std::move(info), edges);
}

Result<ObjectRecord> Registry::RegisterStagedFile(std::string_view kind, const Intake& intake,
                                                  const fs::path& file, const std::string& name,
                                                  Json info, const std::vector<Edge>& edges) {
  const ManifestEntry& staged = intake.manifest().entries.front();
  if (!info.is_object()) info = Json::object();
  info["filename"] = file.filename().string();
  info["size"] = staged.size;
  ObjectRecord record;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    Json blobs = Json::array();
    GRAFT_RETURN_IF_ERROR(change.AdoptFiles(intake, blobs).status());
    Json details = {{"digest", DigestHex(staged.digest)},
                    {"info", info},
                    {"attested", 0},
                    {"blobs", blobs},
                    {"edges", EdgesJson(edges)}};
    GRAFT_ASSIGN_OR_RETURN(record, AddObject(change, kind, std::move(details), name, ""));
    return Status::Ok();
  }));
  return record;
}

Result<ObjectRecord> Registry::RegisterDataset(const fs::path& file, const std::string& name) {
  if (!name.empty()) GRAFT_RETURN_IF_ERROR(ValidateName(name, "dataset name"));
  GRAFT_RETURN_IF_ERROR(Writable());
  GRAFT_ASSIGN_OR_RETURN(Intake intake, Intake::CopyFile(file, state_->staging));
  // The staged copy is what is checked and stored.
  GRAFT_ASSIGN_OR_RETURN(std::string bytes,
                         ReadFile(intake.PathOf(intake.manifest().entries.front().path)));
  GRAFT_ASSIGN_OR_RETURN(int64_t records, CountJsonlRecords(bytes, file));
  return RegisterStagedFile("dataset", intake, file, name, {{"records", records}}, {});
}

Result<ObjectRecord> Registry::RegisterBase(const fs::path& dir, const std::string& name,
                                            const StagedCheck& check) {
  if (!name.empty()) GRAFT_RETURN_IF_ERROR(ValidateName(name, "base name"));
  std::error_code error;
  if (!fs::is_directory(dir, error)) return InvalidInput(dir.string() + " is not a directory");
  GRAFT_RETURN_IF_ERROR(Writable());
  GRAFT_ASSIGN_OR_RETURN(Intake intake, Intake::CopyDirectory(dir, state_->staging));
  // Everything below reads the staged copy, which is what is stored.
  fs::path config_path = intake.PathOf(kHfConfigFile);
  Result<std::string> config_text = ReadFile(config_path, 16 << 20);
  if (!config_text.ok()) {
    return config_text.status().kind() == ErrorKind::kNotFound
               ? InvalidInput(dir.string() + " has no " + kHfConfigFile)
               : config_text.status();
  }
  const std::string source = (dir / kHfConfigFile).string();
  GRAFT_ASSIGN_OR_RETURN(Json config, ParseJson(*config_text, source));
  GRAFT_ASSIGN_OR_RETURN(ModelArchitecture arch, ModelArchitecture::FromConfig(config, source));
  if (check) GRAFT_RETURN_IF_ERROR(intake.InSourceTerms(check(intake.dir(), dir), dir));
  Json info = {{"model_type", arch.model_type},
               {"parameters", arch.parameters},
               {"config", config},
               {"identity_ignore", Json::array()}};
  ObjectRecord record;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    Json blobs = Json::array();
    GRAFT_ASSIGN_OR_RETURN(Json files, change.AdoptFiles(intake, blobs));
    Json details = {{"digest", intake.manifest().RootDigestHex()},
                    {"info", info},
                    {"attested", 0},
                    {"files", files},
                    {"blobs", blobs}};
    GRAFT_ASSIGN_OR_RETURN(record, AddObject(change, "base", std::move(details), name, ""));
    return Status::Ok();
  }));
  return record;
}

Result<ObjectRecord> Registry::RegisterAdapter(const fs::path& dir, const AdapterOptions& options) {
  if (!options.name.empty()) GRAFT_RETURN_IF_ERROR(ValidateName(options.name, "adapter name"));
  GRAFT_RETURN_IF_ERROR(Writable());
  GRAFT_ASSIGN_OR_RETURN(Intake intake, Intake::CopyDirectory(dir, state_->staging));
  Result<ObjectRecord> registered = RegisterStagedAdapter(intake, dir, options);
  if (!registered.ok()) return intake.InSourceTerms(registered.status(), dir);
  return registered;
}

Result<ObjectRecord> Registry::RegisterStagedAdapter(const Intake& intake, const fs::path& source,
                                                     const AdapterOptions& options) {
  // Everything is read from the staged copy; `source` only names it in messages.
  GRAFT_ASSIGN_OR_RETURN(StagedAdapter adapter, ReadStagedAdapter(intake));
  const std::string& digest = adapter.digest;
  GRAFT_ASSIGN_OR_RETURN(ObjectRecord base, ResolveAdapterBase(*this, adapter, options, source));
  GRAFT_ASSIGN_OR_RETURN(AdapterSpec::Fit fit, CheckAdapterFits(*this, adapter.spec, base));
  GRAFT_RETURN_IF_ERROR(CheckAttestedOrAllowed(adapter, options, source));
  GRAFT_ASSIGN_OR_RETURN(TrainerKeys keys, TrainerKeys::Load(*this));
  AdapterEvidence evidence{.edges = {{digest, "base", base.digest}}};
  if (adapter.has_signature) {
    GRAFT_RETURN_IF_ERROR(VerifyModelSignature(intake.dir(), digest, keys, evidence));
  }
  if (adapter.provenance) {
    GRAFT_RETURN_IF_ERROR(
        VerifyAdapterProvenance(*adapter.provenance, source, digest, base, keys, evidence));
  }
  Json info = adapter.spec.Summary(fit);
  info["base"] = base.digest;
  info["identity_ignore"] = AdapterIdentityIgnore();
  info["provenance"] = evidence.provenance;

  ObjectRecord record;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    Json blobs = Json::array();
    GRAFT_ASSIGN_OR_RETURN(Json files, change.AdoptFiles(intake, blobs));
    std::vector<Edge> edges = evidence.edges;
    std::vector<std::string> recorded;  // the attestations' blob digests
    for (const PendingAttestation& a : evidence.attestations) {
      GRAFT_ASSIGN_OR_RETURN(std::string att_digest, change.PutBlob(a.envelope));
      blobs.push_back(BlobEntry(att_digest, a.envelope.size()));
      recorded.push_back(att_digest);
      edges.push_back({digest, a.kind, att_digest});
    }
    Json details = {{"digest", digest},
                    {"info", info},
                    {"attested", adapter.has_signature && adapter.provenance ? 1 : 0},
                    {"stage", "candidate"},
                    {"files", files},
                    {"blobs", blobs},
                    {"edges", EdgesJson(edges)}};
    GRAFT_ASSIGN_OR_RETURN(
        record, AddObject(change, "adapter", std::move(details), options.name, evidence.actor));
    // The attestations are recorded once, with the object's first registration.
    if (record.created_seq + 1 != *change.log().Size()) return Status::Ok();
    for (size_t i = 0; i < evidence.attestations.size(); ++i) {
      const PendingAttestation& a = evidence.attestations[i];
      Json att = {{"digest", recorded[i]},
                  {"kind", a.kind},
                  {"subject", digest},
                  {"predicate_type", a.predicate_type},
                  {"key_ids", a.key_ids}};
      GRAFT_RETURN_IF_ERROR(change.Append("attestation.add", att, a.key_ids.front()).status());
    }
    return Status::Ok();
  }));
  return record;
}

}  // namespace graft::registry
