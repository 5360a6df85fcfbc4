#include "registry/registry_copy.h"

#include <cstdlib>
#include <set>

#include "core/file_util.h"
#include "registry/cosignatures.h"
#include "registry/empty_database.h"
#include "registry/event_log.h"
#include "registry/event_store.h"
#include "registry/file_blob_store.h"
#include "registry/postgres_blob_store.h"
#include "registry/postgres_database.h"
#include "registry/projection.h"
#include "registry/registry_directory.h"
#include "registry/registry_internal.h"
#include "registry/registry_key.h"
#include "registry/schema.h"
#include "registry/transaction.h"

namespace graft::registry {
namespace fs = std::filesystem;
namespace {

// Fails naming the audit's first problem (problems name their event).
Status RequirePassed(const Result<AuditReport>& report, const std::string& what) {
  if (!report.ok()) return report.status().WithContext("auditing " + what);
  if (report->ok()) return Status::Ok();
  const size_t more = report->problems.size() - 1;
  return VerificationFailed(
      what + " fails its audit: " + report->problems.front() +
      (more > 0 ? " (and " + std::to_string(more) + " more problem(s))" : std::string()));
}

// Where the source's registry key lives, for a directory copy to record: the source directory's
// own record of it, else the key kept inside an old registry; for a PostgreSQL source (which
// records none) $GRAFT_REGISTRY_KEY; else the default location.
Result<fs::path> KeyLocation(Registry& source) {
  std::error_code error;
  if (!Database::IsPostgresUri(source.dir().string())) {
    const fs::path hint = source.dir() / kRegistryKeyLocationFile;
    if (fs::exists(hint, error)) {
      GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(hint, 4096));
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      if (!text.empty()) return fs::path(text);
    }
    const fs::path legacy = source.dir() / kLegacyRegistryKeyFile;
    if (fs::exists(legacy, error)) return fs::absolute(legacy, error);
  } else if (const char* env = std::getenv(kRegistryKeyEnv); env != nullptr && *env != '\0') {
    return fs::absolute(env, error);
  }
  return DefaultRegistryKeyPath(source.registry_key().key_id());
}

// Every event of `source` replayed into `db` (schema only) and `blobs`, in one transaction.
Status Replay(Registry& source, Database& db, BlobStore& blobs, CopyOutcome& outcome) {
  GRAFT_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(db));
  EventLog log(db);
  Projection projection(db);
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, source.LogSize());
  std::set<std::string> copied;
  for (uint64_t seq = 0; seq < size; ++seq) {
    const std::string where = "event " + std::to_string(seq);
    GRAFT_ASSIGN_OR_RETURN(Event event, source.GetEvent(seq));
    const Json details = event.json.value("details", Json::object());
    if (details.contains("blobs") && details["blobs"].is_array()) {
      for (const Json& blob : details["blobs"]) {
        const std::string digest = blob.value("digest", "");
        if (copied.contains(digest)) continue;
        // Streamed a piece at a time, re-hashed as it is read and as it is stored.
        Result<uint64_t> size = blobs.CopyFrom(RegistryInternals::blobs(source), digest);
        if (!size.ok()) return size.status().WithContext(where + ": blob sha256:" + digest);
        copied.insert(digest);
        outcome.bytes += *size;
      }
    }
    Result<Event> appended = AppendEventBody(db, event.body);
    if (!appended.ok()) return appended.status().WithContext("copying " + where);
    GRAFT_RETURN_IF_ERROR(projection.Apply(*appended).WithContext("replaying " + where));
  }
  outcome.events = size;
  outcome.blobs = copied.size();
  GRAFT_ASSIGN_OR_RETURN(outcome.root, log.RootHash(size));
  return transaction.Commit();
}

// Fails unless `note` is a checkpoint signed by the copy's (the source's) registry key whose root
// is the copied log's at its size.
Result<Checkpoint> CheckNote(Registry& copy, const std::string& note, const std::string& which) {
  Result<Checkpoint> checkpoint = copy.VerifyCheckpoint(note);
  if (!checkpoint.ok()) return checkpoint.status().WithContext(which);
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, copy.LogSize());
  if (checkpoint->size > size) return VerificationFailed(which + " is beyond the log");
  GRAFT_ASSIGN_OR_RETURN(Digest root, copy.LogRoot(checkpoint->size));
  if (root != checkpoint->root) return VerificationFailed(which + " does not match the log");
  return checkpoint;
}

// The source's checkpoints and kept cosignatures, each checked against the copied log.
Status CopyNotes(Registry& source, Registry& copy, CopyOutcome& outcome) {
  GRAFT_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(RegistryInternals::db(copy)));
  GRAFT_ASSIGN_OR_RETURN(Statement notes, RegistryInternals::db(source).Prepare(
                                              "SELECT size, note FROM checkpoints ORDER BY size"));
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, notes.Step());
    if (!row) break;
    const std::string which = "the source's checkpoint of size " + std::to_string(notes.Int(0));
    GRAFT_ASSIGN_OR_RETURN(Checkpoint checkpoint, CheckNote(copy, notes.Text(1), which));
    if (checkpoint.size != static_cast<uint64_t>(notes.Int(0))) {
      return VerificationFailed(which + " is filed under the wrong size");
    }
    GRAFT_RETURN_IF_ERROR(RegistryInternals::db(copy).Run(
        "INSERT INTO checkpoints(size, note) VALUES(?, ?)", notes.Int(0), notes.Text(1)));
    ++outcome.checkpoints;
  }
  Cosignatures kept(copy);
  GRAFT_ASSIGN_OR_RETURN(std::vector<StoredCosignature> cosigned, Cosignatures(source).List());
  for (const StoredCosignature& c : cosigned) {
    const std::string which = "the source's cosignature by " + c.witness;
    GRAFT_ASSIGN_OR_RETURN(Checkpoint checkpoint, CheckNote(copy, c.note, which));
    if (checkpoint.size != c.size)
      return VerificationFailed(which + " is filed under the wrong size");
    GRAFT_RETURN_IF_ERROR(kept.Store(c));
    ++outcome.cosignatures;
  }
  return transaction.Commit();
}

// The copy at `location` (filled by Replay), opened as a Registry: it must have the source's
// origin, registry key and log root; the source's checkpoints and cosignatures are kept; then it
// must pass `audit`.
Status Finish(Registry& source, const fs::path& location, const CopyAudit& audit,
              const Digest& source_root, CopyOutcome& outcome) {
  {
    GRAFT_ASSIGN_OR_RETURN(Registry copy, Registry::Open(location));
    if (copy.origin() != source.origin() ||
        copy.registry_key().key_id() != source.registry_key().key_id() ||
        outcome.root != source_root) {
      return VerificationFailed(
          "the copy's origin, registry key or log root differs from the source's");
    }
    GRAFT_RETURN_IF_ERROR(CopyNotes(source, copy, outcome));
  }
  GRAFT_ASSIGN_OR_RETURN(Registry copy, Registry::Open(location, {.snapshot = true}));
  return RequirePassed(audit(copy), "the copy");
}

// Drops graft's tables (and the backend's own) after a failed copy, so the database is empty
// again: everything in it was made by this copy (RequireEmptyDatabase).
void DropSchema(Database& db) {
  Result<std::vector<std::string>> tables = SchemaTables(LatestSchemaVersion());
  if (!tables.ok()) return;
  std::string list;
  for (const std::string& table : *tables) list += (list.empty() ? "" : ", ") + table;
  for (const char* table : kPostgresBackendTables) list += std::string(", ") + table;
  (void)db.Exec("DROP TABLE IF EXISTS " + list + " CASCADE");
}

Result<CopyOutcome> CopyToPostgres(Registry& source, const std::string& uri, const CopyAudit& audit,
                                   const Digest& source_root) {
  CopyOutcome outcome;
  outcome.origin = source.origin();
  GRAFT_ASSIGN_OR_RETURN(Database db, Database::Connect(uri));
  GRAFT_RETURN_IF_ERROR(RequireEmptyDatabase(db, "graft registry copy"));
  GRAFT_RETURN_IF_ERROR(
      RequirePassed(audit(source), "the source registry " + source.dir().string()));
  Status copied = [&]() -> Status {
    GRAFT_RETURN_IF_ERROR(MigrateSchema(db));
    PostgresBlobStore blobs(&db);
    GRAFT_RETURN_IF_ERROR(Replay(source, db, blobs, outcome));
    return Finish(source, uri, audit, source_root, outcome);
  }();
  if (!copied.ok()) {
    DropSchema(db);
    return copied;
  }
  return outcome;
}

}  // namespace

Json CopyOutcome::ToJson() const {
  return {{"events", events},
          {"blobs", blobs},
          {"bytes", bytes},
          {"checkpoints", checkpoints},
          {"cosignatures", cosignatures},
          {"origin", origin},
          {"root", DigestHex(root)}};
}

Result<CopyOutcome> CopyRegistry(Registry& source, const fs::path& dest, const CopyAudit& audit) {
  GRAFT_ASSIGN_OR_RETURN(uint64_t source_size, source.LogSize());
  GRAFT_ASSIGN_OR_RETURN(Digest source_root, source.LogRoot(source_size));
  if (Database::IsPostgresUri(dest.string())) {
    return CopyToPostgres(source, dest.string(), audit, source_root);
  }
  CopyOutcome outcome;
  outcome.origin = source.origin();
  GRAFT_RETURN_IF_ERROR(BuildRegistryDirectory(dest, [&](const fs::path& building) -> Status {
    GRAFT_RETURN_IF_ERROR(
        RequirePassed(audit(source), "the source registry " + source.dir().string()));
    GRAFT_ASSIGN_OR_RETURN(fs::path key_file, KeyLocation(source));
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(building / kRegistryKeyLocationFile,
                                          key_file.string() + "\n", fs::perms(0644)));
    {
      GRAFT_ASSIGN_OR_RETURN(Database db,
                             Database::Open(building / kDatabaseFile, Database::Mode::kCreate));
      GRAFT_RETURN_IF_ERROR(MigrateSchema(db));
      FileBlobStore blobs(building / kBlobDir);
      GRAFT_RETURN_IF_ERROR(Replay(source, db, blobs, outcome));
    }
    return Finish(source, building, audit, source_root, outcome);
  }));
  return outcome;
}

}  // namespace graft::registry
