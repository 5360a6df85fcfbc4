#include "registry/auditor.h"

#include <charconv>
#include <map>
#include <optional>
#include <set>

#include "core/encoding.h"
#include "core/file_names.h"
#include "core/manifest.h"
#include "core/oms_signature.h"
#include "registry/authorisation.h"
#include "registry/key_history.h"
#include "registry/object_identity.h"
#include "registry/projection.h"
#include "registry/schema.h"
#include "registry/transaction.h"
#include "registry/vocabulary.h"

namespace graft::registry {

namespace {

constexpr size_t kMaxListed = 20;  // per check, so a wholesale rewrite stays readable

void Add(std::vector<std::string>& list, size_t& count, std::string problem) {
  if (++count <= kMaxListed) list.push_back(std::move(problem));
}

void Summarize(std::vector<std::string>& list, size_t count, const std::string& what) {
  if (count > kMaxListed) {
    list.push_back("... and " + std::to_string(count - kMaxListed) + " more " + what);
  }
}

// Every row of a table as a JSON array text (blobs as hex), in primary-key order.
Result<std::vector<std::string>> TableRows(Database& db, const ProjectedTable& table) {
  GRAFT_ASSIGN_OR_RETURN(Statement s, db.Prepare(std::string("SELECT * FROM ") + table.name +
                                                 " ORDER BY " + table.order_by));
  std::vector<std::string> rows;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Json values = Json::array();
    for (int c = 0; c < s.ColumnCount(); ++c) {
      values.push_back(s.IsNull(c) ? Json() : Json(s.Text(c)));
    }
    GRAFT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(values));
    rows.push_back(std::move(text));
  }
  return rows;
}

}  // namespace

Json AuditReport::ToJson() const {
  return {{"ok", ok()},
          {"checked", checked},
          {"problems", problems},
          {"notes", notes},
          {"findings", findings}};
}

Status Auditor::CheckSchema(AuditReport& report) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> differences,
                         SchemaDifferences(registry_.db(), registry_.schema_version()));
  for (std::string& difference : differences) {
    report.problems.push_back("schema: " + std::move(difference));
  }
  report.checked.push_back("schema (version " + std::to_string(registry_.schema_version()) +
                           "): tables, indexes, triggers and views against graft's definitions");
  return Status::Ok();
}

Status Auditor::CheckIntegrity(AuditReport& report) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> problems,
                         registry_.db().backend().IntegrityProblems());
  size_t count = 0;
  for (std::string& line : problems) {
    Add(report.problems, count, "database integrity: " + std::move(line));
  }
  Summarize(report.problems, count, "integrity problems");
  report.checked.push_back(registry_.db().backend().IntegrityCheckName());
  return Status::Ok();
}

Status Auditor::CheckEvents(AuditReport& report) {
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         registry_.db().Prepare("SELECT seq, body FROM events ORDER BY seq"));
  size_t count = 0;
  uint64_t expected = 0;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Event event;
    event.seq = static_cast<uint64_t>(s.Int(0));
    event.body = s.Text(1);
    if (event.seq != expected) {
      Add(report.problems, count,
          event.seq > expected
              ? "event " + std::to_string(expected) +
                    (event.seq - expected > 1 ? "-" + std::to_string(event.seq - 1) : "") +
                    " missing: the log jumps from " +
                    (expected == 0 ? std::string("the start") : std::to_string(expected - 1)) +
                    " to " + std::to_string(event.seq) + " (deleted events)"
              : "event row " + std::to_string(event.seq) + " out of order");
    }
    expected = event.seq + 1;
    Result<Json> json = ParseJson(event.body, "event " + std::to_string(event.seq));
    if (!json.ok()) {
      Add(report.problems, count, json.status().message());
    } else {
      event.json = std::move(*json);
      Result<std::string> canonical = CanonicalJson(event.json);
      if (!canonical.ok() || *canonical != event.body) {
        Add(report.problems, count,
            "event " + std::to_string(event.seq) + " is not in canonical JSON form (edited)");
      }
      auto seq = event.json.find("seq");
      if (seq == event.json.end() || !seq->is_number_unsigned() ||
          seq->get<uint64_t>() != event.seq) {
        Add(report.problems, count,
            "event row " + std::to_string(event.seq) + " holds the body of event " +
                (seq == event.json.end() ? std::string("?") : seq->dump()) +
                " (events reordered or edited)");
      }
    }
    tree_.Append(MerkleLeafHash(event.body));
    events_.push_back(std::move(event));
  }
  Summarize(report.problems, count, "event problems");
  report.checked.push_back(std::to_string(events_.size()) +
                           " events: sequence, canonical form and seq fields");
  return Status::Ok();
}

Status Auditor::CheckStoredTree(AuditReport& report) {
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         registry_.db().Prepare("SELECT level, idx, hash FROM merkle_nodes"));
  size_t count = 0;
  size_t compared = 0;
  std::map<int, uint64_t> per_level;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    int level = static_cast<int>(s.Int(0));
    uint64_t index = static_cast<uint64_t>(s.Int(1));
    std::string stored = s.Blob(2);
    ++compared;
    ++per_level[level];
    Result<Digest> actual = tree_.Subtree(level, index);
    std::string where = level == 0 ? "event " + std::to_string(index)
                                   : "tree node (level " + std::to_string(level) + ", index " +
                                         std::to_string(index) + ")";
    if (!actual.ok()) {
      Add(report.problems, count,
          "stored hash for " + where + " has no event behind it (events deleted)");
    } else if (stored != AsChars(std::span<const uint8_t>(*actual))) {
      Add(report.problems, count,
          level == 0 ? where + " does not match its stored leaf hash (the event row was edited)"
                     : "stored hash of " + where + " differs from the recomputed tree");
    }
  }
  // Every complete subtree of the recomputed tree must have been stored.
  uint64_t n = tree_.size();
  for (int level = 0; (uint64_t{1} << level) <= n; ++level) {
    uint64_t expected = n >> level;
    if (per_level[level] < expected) {
      Add(report.problems, count,
          std::to_string(expected - per_level[level]) + " stored tree hash(es) missing at level " +
              std::to_string(level));
    }
  }
  Summarize(report.problems, count, "tree problems");
  report.checked.push_back("Merkle tree of " + std::to_string(n) + " leaves recomputed; " +
                           std::to_string(compared) + " stored tree hashes compared");
  return Status::Ok();
}

void Auditor::CheckCheckpoint(const std::string& source, const std::string& note,
                              AuditReport& report) {
  Result<Checkpoint> checkpoint = registry_.VerifyCheckpoint(note);
  if (!checkpoint.ok()) {
    report.problems.push_back(source + ": " + checkpoint.status().message());
    return;
  }
  if (checkpoint->size > tree_.size()) {
    report.problems.push_back(source + ": it covers " + std::to_string(checkpoint->size) +
                              " events but the log has only " + std::to_string(tree_.size()) +
                              " (events deleted)");
    return;
  }
  Result<Digest> root = tree_.Tree().RootHash(checkpoint->size);
  if (!root.ok() || *root != checkpoint->root) {
    report.problems.push_back(source + ": its root for size " + std::to_string(checkpoint->size) +
                              " is not the log's (the history was rewritten)");
  }
}

Status Auditor::CheckCheckpoints(const std::vector<KeptCheckpoint>& kept, AuditReport& report) {
  GRAFT_ASSIGN_OR_RETURN(
      Statement s, registry_.db().Prepare("SELECT size, note FROM checkpoints ORDER BY size"));
  size_t stored = 0;
  size_t before = report.problems.size();
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    ++stored;
    if (report.problems.size() - before < kMaxListed) {
      CheckCheckpoint("stored checkpoint " + std::to_string(s.Int(0)), s.Text(1), report);
    }
  }
  GRAFT_ASSIGN_OR_RETURN(Statement latest,
                         registry_.db().Prepare("SELECT COALESCE(MAX(size), 0) FROM checkpoints"));
  GRAFT_ASSIGN_OR_RETURN(bool has_row, latest.Step());
  uint64_t latest_size = has_row ? static_cast<uint64_t>(latest.Int(0)) : 0;
  if (latest_size < tree_.size()) {
    report.problems.push_back("the log has " + std::to_string(tree_.size()) +
                              " events but the latest signed checkpoint covers " +
                              std::to_string(latest_size) + " (events appended outside graft)");
  }
  report.checked.push_back(std::to_string(stored) +
                           " stored checkpoints: signature by the registry key, root vs the log");
  for (const KeptCheckpoint& k : kept) {
    CheckCheckpoint("checkpoint " + k.source, k.note, report);
    report.checked.push_back("checkpoint " + k.source + ": signature and consistency");
  }
  return Status::Ok();
}

Status Auditor::CheckTables(AuditReport& report) {
  GRAFT_ASSIGN_OR_RETURN(Database replay, Database::Open({}, Database::Mode::kMemory));
  GRAFT_RETURN_IF_ERROR(MigrateSchema(replay));
  GRAFT_RETURN_IF_ERROR(replay.Exec("BEGIN"));
  Projection projection(replay);
  size_t count = 0;
  for (const Event& event : events_) {
    if (event.json.is_null()) continue;
    Status applied = projection.Apply(event);
    if (!applied.ok()) {
      Add(report.problems, count,
          "event " + std::to_string(event.seq) + " cannot be replayed: " + applied.message());
    }
  }
  GRAFT_RETURN_IF_ERROR(replay.Exec("COMMIT"));
  // " (written by event 17 adapter.tag)", for tables that record the event that wrote a row.
  auto written_by = [&](const ProjectedTable& table, const std::string& row) -> std::string {
    Result<Json> values = ParseJson(row, "row");
    if (table.event_column < 0 || !values.ok() || !values->is_array() ||
        values->size() <= static_cast<size_t>(table.event_column)) {
      return "";
    }
    const Json& seq = (*values)[static_cast<size_t>(table.event_column)];
    const std::string text = seq.is_string() ? seq.get<std::string>() : "?";
    std::string action;
    uint64_t index = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), index);
    if (error == std::errc() && end == text.data() + text.size() && index < events_.size() &&
        events_[index].seq == index && events_[index].json.is_object()) {
      action = " " + events_[index].json.value("action", "");
    }
    return " (written by event " + text + action + ")";
  };
  size_t rows = 0;
  size_t tables = 0;
  for (const ProjectedTable& table : ProjectedTables()) {
    if (table.since > registry_.schema_version()) continue;  // an older, read-only database
    ++tables;
    GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> expected, TableRows(replay, table));
    GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> actual, TableRows(registry_.db(), table));
    rows += actual.size();
    std::multiset<std::string> want(expected.begin(), expected.end());
    std::multiset<std::string> have(actual.begin(), actual.end());
    for (const std::string& row : actual) {
      if (!want.contains(row)) {
        Add(report.problems, count,
            std::string("table ") + table.name + ": row " + row +
                " is not what the log says (edited or inserted outside graft)");
      }
    }
    for (const std::string& row : expected) {
      if (!have.contains(row)) {
        Add(report.problems, count,
            std::string("table ") + table.name + ": the log's row " + row +
                " is missing or was altered" + written_by(table, row));
      }
    }
  }
  Summarize(report.problems, count, "table problems");
  report.checked.push_back(std::to_string(tables) + " tables (" + std::to_string(rows) +
                           " rows) compared with a replay of the log");
  return Status::Ok();
}

Status Auditor::CheckBlobs(AuditReport& report) {
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         registry_.db().Prepare("SELECT digest, size FROM blobs ORDER BY digest"));
  size_t count = 0;
  size_t checked = 0;
  std::set<std::string> known;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    std::string digest = s.Text(0);
    known.insert(digest);
    ++checked;
    Status verified = registry_.blobs().Verify(digest, static_cast<uint64_t>(s.Int(1)));
    if (!verified.ok()) Add(report.problems, count, verified.message());
  }
  Summarize(report.problems, count, "blob problems");
  for (const std::string& digest : registry_.blobs().List()) {
    if (!known.contains(digest)) {
      report.notes.push_back("blob " + digest + " is not referenced by any row (orphan)");
    }
  }
  report.checked.push_back(std::to_string(checked) + " blobs re-hashed");
  return Status::Ok();
}

namespace {

// One directory object's file rows as the audit reads them.
struct StoredFiles {
  std::string digest, kind, info;
  std::vector<ManifestEntry> files;
};

// "adapter bot@3 (sha256:0123456789abcdef)"
std::string ObjectLabel(Registry& registry, const StoredFiles& object) {
  Result<ObjectRecord> record = registry.Get(object.digest);
  std::string digest = "sha256:" + object.digest.substr(0, 16);
  if (!record.ok() || record->labels.empty()) return object.kind + " " + digest;
  return object.kind + " " + record->DisplayName() + " (" + digest + ")";
}

}  // namespace

Status Auditor::CheckDirectoryFiles(AuditReport& report) {
  std::map<std::string, std::string> signature_of;  // adapter digest -> model.sig attestation
  {
    GRAFT_ASSIGN_OR_RETURN(
        Statement s, registry_.db().Prepare("SELECT subject, digest FROM attestations WHERE kind "
                                            "= 'model-signature' ORDER BY seq"));
    for (;;) {
      GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      signature_of[s.Text(0)] = s.Text(1);
    }
  }
  size_t count = 0;
  size_t objects = 0;
  size_t files = 0;
  auto check = [&](const StoredFiles& object) {
    ++objects;
    files += object.files.size();
    Result<Json> info = ParseJson(object.info, "object info");
    const Manifest stored = IdentityManifest(info.ok() ? *info : Json(), object.files);
    if (stored.RootDigestHex() != object.digest) {
      Add(report.problems, count,
          ObjectLabel(registry_, object) + ": the root digest of its file rows is sha256:" +
              stored.RootDigestHex() + ", not its digest (a file row was changed)");
    }
    auto signature = signature_of.find(object.digest);
    if (signature == signature_of.end()) return;
    const std::string what = ObjectLabel(registry_, object) + ": " + kSignatureFile;
    Result<DsseEnvelope> envelope = registry_.LoadAttestation(signature->second);
    Result<OmsSignedContent> signed_content = envelope.ok()
                                                  ? ParseOmsEnvelope(*envelope, what)
                                                  : Result<OmsSignedContent>(envelope.status());
    if (!signed_content.ok()) {
      Add(report.problems, count, what + ": " + signed_content.status().message());
      return;
    }
    if (DigestHex(signed_content->subject) != object.digest) {
      Add(report.problems, count,
          what + " signs sha256:" + DigestHex(signed_content->subject) + ", not this adapter");
    }
    for (const std::string& difference : DiffManifests(signed_content->manifest, stored)) {
      Add(report.problems, count,
          what + " and the stored files differ: " + difference +
              " (the file's blob is not the one the trainer signed)");
    }
  };
  GRAFT_ASSIGN_OR_RETURN(
      Statement s,
      registry_.db().Prepare("SELECT o.digest, o.kind, o.info, f.path, f.blob, f.size, b.size "
                             "FROM objects o JOIN object_files f ON f.object = o.digest "
                             "LEFT JOIN blobs b ON b.digest = f.blob ORDER BY o.digest"));
  StoredFiles current;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    if (s.Text(0) != current.digest) {
      if (!current.digest.empty()) check(current);
      current = {s.Text(0), s.Text(1), s.Text(2), {}};
    }
    ManifestEntry file;
    file.path = s.Text(3);
    const std::string blob = s.Text(4);
    file.size = static_cast<uint64_t>(s.Int(5));
    Result<Digest> digest = ParseDigestHex(blob);
    if (!digest.ok()) {
      Add(report.problems, count,
          "object sha256:" + current.digest + ": file " + file.path + " names blob \"" + blob +
              "\", which is not a digest");
      continue;
    }
    if (s.IsNull(6) || static_cast<uint64_t>(s.Int(6)) != file.size) {
      Add(report.problems, count,
          "object sha256:" + current.digest + ": file " + file.path + " names blob sha256:" + blob +
              (s.IsNull(6) ? ", which the blob table does not list" : " of another size"));
    }
    file.digest = *digest;
    current.files.push_back(std::move(file));
  }
  if (!current.digest.empty()) check(current);
  Summarize(report.problems, count, "file problems");
  report.checked.push_back(std::to_string(objects) + " directory objects (" +
                           std::to_string(files) +
                           " files): root digest of the file rows, and each signed adapter's "
                           "files against the per-file digests model.sig lists");
  return Status::Ok();
}

Status Auditor::CheckAttestations(AuditReport& report) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<KeyRecord> keys, registry_.Keys());
  std::map<std::string, PublicKey> parsed;  // key id -> key, parsed once
  for (const KeyRecord& k : keys) {
    Result<PublicKey> pub = PublicKey::FromPem(k.pem, "key " + k.key_id);
    if (pub.ok() && pub->key_id() == k.key_id) parsed.emplace(k.key_id, *pub);
  }
  GRAFT_ASSIGN_OR_RETURN(
      Statement s,
      registry_.db().Prepare(
          "SELECT digest, kind, subject, key_ids, seq FROM attestations ORDER BY seq"));
  size_t count = 0;
  size_t checked = 0;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    ++checked;
    std::string digest = s.Text(0);
    std::string what = s.Text(1) + " attestation sha256:" + digest.substr(0, 16) + " (event " +
                       std::to_string(s.Int(4)) + ")";
    uint64_t seq = static_cast<uint64_t>(s.Int(4));
    Result<DsseEnvelope> envelope = registry_.LoadAttestation(digest);
    if (!envelope.ok()) {
      Add(report.problems, count, what + ": " + envelope.status().message());
      continue;
    }
    Result<Json> ids = ParseJson(s.Text(3), "key_ids");
    if (!ids.ok() || !ids->is_array() || ids->empty()) {
      Add(report.problems, count, what + ": no signer recorded");
      continue;
    }
    for (const Json& id : *ids) {
      std::string key_id = id.is_string() ? id.get<std::string>() : "";
      const KeyRecord* record = nullptr;
      for (const KeyRecord& k : keys) {
        if (k.key_id == key_id) record = &k;
      }
      if (record == nullptr) {
        Add(report.problems, count, what + ": signer " + key_id + " is not a known key");
        continue;
      }
      if (record->trusted_seq > seq) {
        Add(report.problems, count,
            what + ": signed by key " + key_id + " before it was trusted (event " +
                std::to_string(record->trusted_seq) + ")");
      }
      if (record->revoked_seq && *record->revoked_seq < seq) {
        Add(report.problems, count,
            what + ": signed by key " + key_id + ", which was revoked at event " +
                std::to_string(*record->revoked_seq) + " — before this signature was logged");
      }
      auto pub = parsed.find(key_id);
      if (pub == parsed.end() || !DsseVerify(*envelope, {pub->second}).ok()) {
        Add(report.problems, count, what + ": signature by key " + key_id + " does not verify");
      }
    }
  }
  Summarize(report.problems, count, "signature problems");
  report.checked.push_back(std::to_string(checked) +
                           " attestation signatures verified against the log's keys and "
                           "revocations");
  return Status::Ok();
}

Status Auditor::CheckChannels(AuditReport& report) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<ChannelEntry> channels, registry_.Channels());
  for (const ChannelEntry& channel : channels) {
    Result<ObjectRecord> target = registry_.Get(channel.digest);
    if (!target.ok()) {
      report.problems.push_back("channel " + channel.channel + " serves sha256:" + channel.digest +
                                ", which is not in the registry");
      continue;
    }
    std::string serves = "channel " + channel.channel + " serves " +
                         (target->labels.empty() ? "" : target->DisplayName() + " ") +
                         "(sha256:" + target->digest.substr(0, 16) + "), ";
    GRAFT_ASSIGN_OR_RETURN(std::vector<Revocation> revocations, registry_.Revocations(*target));
    for (const Revocation& r : revocations) {
      report.findings.push_back(serves + (r.relation == kSelfRevocation ? "which was " : "whose ") +
                                r.Describe());
    }
    const std::string stage = target->stage.value_or("");
    if (stage == "retired" || stage == "revoked" || stage == "rejected") {
      report.findings.push_back(serves + "which is " + stage +
                                " (the channel had no earlier version to roll back to)");
    }
  }
  report.checked.push_back(std::to_string(channels.size()) +
                           " channels: what each serves, against revocations and retirement");
  return Status::Ok();
}

void Auditor::CheckSignedChanges(AuditReport& report) {
  const Json* init = events_.empty() ? nullptr : &events_.front().json;
  const Json init_details = init != nullptr && init->value("action", "") == kRegistryInitEvent
                                ? init->value("details", Json())
                                : Json();
  const bool guarded = init_details.is_object() && init_details.contains("admin_key_id");
  KeyHistory keys;
  size_t count = 0;
  size_t signed_events = 0;
  for (const Event& event : events_) {
    if (!event.json.is_object()) continue;
    const std::string action = event.json.value("action", "");
    const Json details = event.json.value("details", Json::object());
    const std::string where = "event " + std::to_string(event.seq) + " " + action;
    // Genesis: registry.init, then the registry key and the admin key it names, unsigned.
    const bool genesis =
        (event.seq == 0 && action == kRegistryInitEvent) ||
        (action == kKeyTrustEvent && init_details.is_object() &&
         ((event.seq == 1 && details.value("role", "") == kRegistryRole &&
           details.value("key_id", "") == init_details.value("key_id", "")) ||
          (event.seq == 2 && guarded && details.value("role", "") == kAdminRole &&
           details.value("key_id", "") == init_details.value("admin_key_id", ""))));
    if (action == kRegistryInitEvent && event.seq != 0) {
      Add(report.problems, count, where + ": a second registry.init");
    }
    Result<std::optional<std::string>> signer = EventSigner(event.json);
    std::string why;
    if (!signer.ok()) {
      why = signer.status().message();
    } else if (*signer) {
      ++signed_events;
      const PublicKey* key = keys.Find(**signer);
      if (key == nullptr) {
        why = "signed by key " + **signer + ", which the log had not trusted";
      } else if (!VerifyEventSignature(event.json, *key)) {
        why = "the signature by key " + **signer + " does not verify (event edited or forged)";
      } else if (event.json.value("actor", "") != **signer) {
        why = "the actor is not the signing key " + **signer;
      }
    }
    const std::vector<std::string_view> roles = RolesFor(action, details);
    if (why.empty() && guarded && !genesis && !roles.empty()) {
      std::string wanted;
      for (std::string_view r : roles) wanted += (wanted.empty() ? "" : " or ") + std::string(r);
      why = !*signer ? "not signed (needs a key with role " + wanted + ")"
                     : keys.Why(**signer, roles);
    }
    // Attestations carry their own signatures (CheckAttestations verifies them); here the
    // signers must have held the attestation's role when it was logged.
    if (why.empty() && action == kAttestationAddEvent &&
        details.value("key_ids", Json()).is_array()) {
      const std::string_view role = AttestationRole(details.value("kind", ""));
      for (const Json& id : details["key_ids"]) {
        if (!id.is_string()) continue;
        std::string problem =
            keys.Why(id.get<std::string>(), role.empty() ? std::vector<std::string_view>{}
                                                         : std::vector<std::string_view>{role});
        if (!problem.empty()) why = details.value("kind", "") + " signer: " + problem;
      }
    }
    if (why.empty() && action == "adapter.register" && details.value("attested", 0) == 1) {
      why = keys.Why(event.json.value("actor", ""), {kTrainerRole});
      if (!why.empty()) why = "attested registration by " + why;
    }
    if (!why.empty()) Add(report.problems, count, where + ": " + why);
    keys.Apply(event);
  }
  Summarize(report.problems, count, "unauthorised changes");
  if (guarded) {
    report.checked.push_back(std::to_string(events_.size()) +
                             " events replayed from event 0: each change signed by a key "
                             "trusted for its role and not revoked at its position (" +
                             std::to_string(signed_events) + " signed events)");
  } else {
    report.notes.push_back(
        "the registry was initialised without an admin key, so changes need no signature and "
        "the audit cannot tell who made them (graft init --admin-key); attestation signers' "
        "roles checked");
  }
}

Result<AuditReport> Auditor::Run(const std::vector<KeptCheckpoint>& kept) {
  AuditReport report;
  events_.clear();
  tree_ = InMemoryMerkleTree();
  std::optional<ReadTransaction> snapshot;
  if (!registry_.db().in_transaction()) {
    GRAFT_ASSIGN_OR_RETURN(ReadTransaction begun, ReadTransaction::Begin(registry_.db()));
    snapshot.emplace(std::move(begun));
  }
  GRAFT_RETURN_IF_ERROR(CheckSchema(report));
  GRAFT_RETURN_IF_ERROR(CheckIntegrity(report));
  GRAFT_RETURN_IF_ERROR(CheckEvents(report));
  GRAFT_RETURN_IF_ERROR(CheckStoredTree(report));
  GRAFT_RETURN_IF_ERROR(CheckCheckpoints(kept, report));
  GRAFT_RETURN_IF_ERROR(CheckTables(report));
  GRAFT_RETURN_IF_ERROR(CheckBlobs(report));
  GRAFT_RETURN_IF_ERROR(CheckDirectoryFiles(report));
  GRAFT_RETURN_IF_ERROR(CheckAttestations(report));
  GRAFT_RETURN_IF_ERROR(CheckChannels(report));
  CheckSignedChanges(report);
  return report;
}

}  // namespace graft::registry
