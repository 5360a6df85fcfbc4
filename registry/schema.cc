#include "registry/schema.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "registry/transaction.h"

namespace graft::registry {

namespace {

// Migration N (1-based) brings the schema from version N-1 to N. Never edit a released
// migration: add a new one.
const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> migrations = {
      // 1: the initial schema.
      R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE events(seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE merkle_nodes(level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
                          PRIMARY KEY(level, idx)) WITHOUT ROWID;
CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE blobs(digest TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE keys(key_id TEXT NOT NULL, role TEXT NOT NULL, algorithm TEXT NOT NULL,
                  name TEXT NOT NULL, pem TEXT NOT NULL, trusted_seq INTEGER NOT NULL,
                  revoked_seq INTEGER, revoke_reason TEXT,
                  PRIMARY KEY(key_id, role)) WITHOUT ROWID;
CREATE TABLE objects(digest TEXT PRIMARY KEY, kind TEXT NOT NULL, info TEXT NOT NULL,
                     attested INTEGER NOT NULL, stage TEXT, created_seq INTEGER NOT NULL,
                     revoked_seq INTEGER, revoke_reason TEXT) WITHOUT ROWID;
CREATE INDEX objects_by_kind ON objects(kind, created_seq);
CREATE TABLE labels(kind TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
                    digest TEXT NOT NULL, seq INTEGER NOT NULL,
                    PRIMARY KEY(kind, name, version)) WITHOUT ROWID;
CREATE INDEX labels_by_digest ON labels(digest);
CREATE INDEX labels_by_name ON labels(name, version);
CREATE TABLE object_files(object TEXT NOT NULL, path TEXT NOT NULL, blob TEXT NOT NULL,
                          size INTEGER NOT NULL, PRIMARY KEY(object, path)) WITHOUT ROWID;
CREATE TABLE edges(src TEXT NOT NULL, relation TEXT NOT NULL, dst TEXT NOT NULL,
                   PRIMARY KEY(src, relation, dst)) WITHOUT ROWID;
CREATE INDEX edges_by_dst ON edges(dst, relation);
CREATE TABLE attestations(digest TEXT PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL,
                          predicate_type TEXT NOT NULL, key_ids TEXT NOT NULL,
                          seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX attestations_by_subject ON attestations(subject, kind);
CREATE TABLE channels(name TEXT PRIMARY KEY, digest TEXT NOT NULL, seq INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE TABLE channel_history(name TEXT NOT NULL, seq INTEGER NOT NULL, digest TEXT NOT NULL,
                             reason TEXT NOT NULL, PRIMARY KEY(name, seq)) WITHOUT ROWID;
)sql",
      // 2: `list` is served from an index: objects by (kind, created_seq) with every column a
      // listing shows, so listing reads no table row (and no info JSON) per object.
      R"sql(
DROP INDEX objects_by_kind;
CREATE INDEX objects_listing ON objects(kind, created_seq, attested, stage, revoked_seq,
                                        revoke_reason);
)sql",
      // kAdapterAnnotationsSchema: adapter versions' tags and descriptions (adapter.tag and
      // adapter.describe events); `seq` is the event that set the row.
      R"sql(
CREATE TABLE adapter_tags(digest TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                          seq INTEGER NOT NULL, PRIMARY KEY(digest, key)) WITHOUT ROWID;
CREATE INDEX adapter_tags_by_key ON adapter_tags(key, value);
CREATE TABLE adapter_descriptions(digest TEXT PRIMARY KEY, description TEXT NOT NULL,
                                  seq INTEGER NOT NULL) WITHOUT ROWID;
)sql",
      // kCosignaturesSchema: witnesses' cosigned checkpoints kept in the registry
      // (registry/cosignatures.h); not a projection of the log.
      R"sql(
CREATE TABLE cosignatures(size INTEGER NOT NULL, witness TEXT NOT NULL, note TEXT NOT NULL,
                          PRIMARY KEY(size, witness)) WITHOUT ROWID;
)sql",
  };
  return migrations;
}

// The catalog by (type, name).
Result<std::map<std::pair<std::string, std::string>, SchemaObject>> ReadSchema(Database& db) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<SchemaObject> objects, db.backend().SchemaObjects());
  std::map<std::pair<std::string, std::string>, SchemaObject> out;
  for (SchemaObject& object : objects) {
    std::pair<std::string, std::string> key{object.type, object.name};
    out[std::move(key)] = std::move(object);
  }
  return out;
}

// Migrations 1..version applied to an empty in-memory database.
Result<Database> BuildSchema(int version) {
  GRAFT_ASSIGN_OR_RETURN(Database db, Database::Open({}, Database::Mode::kMemory));
  for (int next = 1; next <= version; ++next) {
    GRAFT_RETURN_IF_ERROR(db.backend().ExecSchema(Migrations()[static_cast<size_t>(next - 1)]));
  }
  return db;
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

Result<int> SchemaVersion(Database& db) {
  GRAFT_ASSIGN_OR_RETURN(int version, db.backend().SchemaVersion());
  if (version < 0) {
    return InvalidInput("registry database " + db.path().string() + " has schema version " +
                        std::to_string(version) + ", which no graft writes (PRAGMA user_version " +
                        "was changed outside graft)");
  }
  if (version > LatestSchemaVersion()) {
    return InvalidInput("registry database " + db.path().string() + " has schema version " +
                        std::to_string(version) + ", newer than this graft supports (" +
                        std::to_string(LatestSchemaVersion()) + "); upgrade graft");
  }
  return version;
}

Status MigrateSchema(Database& db) {
  GRAFT_ASSIGN_OR_RETURN(int version, SchemaVersion(db));
  if (version == LatestSchemaVersion()) return Status::Ok();
  GRAFT_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(db));
  // Re-read under the write lock: another process may have migrated meanwhile.
  GRAFT_ASSIGN_OR_RETURN(version, SchemaVersion(db));
  for (int next = version + 1; next <= LatestSchemaVersion(); ++next) {
    GRAFT_RETURN_IF_ERROR(db.backend().ExecSchema(Migrations()[static_cast<size_t>(next - 1)]));
    GRAFT_RETURN_IF_ERROR(db.backend().SetSchemaVersion(next));
  }
  return transaction.Commit();
}

Result<std::vector<std::string>> SchemaDifferences(Database& db, int version) {
  if (version < 0 || version > LatestSchemaVersion()) {
    return InvalidInput("no schema version " + std::to_string(version));
  }
  GRAFT_ASSIGN_OR_RETURN(Database reference, BuildSchema(version));
  GRAFT_ASSIGN_OR_RETURN(auto expected, ReadSchema(reference));
  GRAFT_ASSIGN_OR_RETURN(auto actual, ReadSchema(db));
  // The reference is SQLite: another engine's definitions are compared by name and table (its
  // catalog holds its own rendering of the DDL).
  const bool same_engine = db.dialect() == Dialect::kSqlite;
  std::vector<std::string> out;
  auto on = [](const SchemaObject& o) {
    return o.type == "table" ? std::string() : " on " + o.table;
  };
  for (const auto& [key, object] : actual) {
    auto want = expected.find(key);
    if (want == expected.end()) {
      out.push_back("unexpected " + object.type + " \"" + object.name + "\"" + on(object) +
                    " (not created by graft): " + object.sql);
    } else if (want->second.table != object.table ||
               (same_engine && want->second.sql != object.sql)) {
      out.push_back(object.type + " \"" + object.name + "\"" + on(object) +
                    " differs from graft's definition: " + object.sql);
    }
  }
  for (const auto& [key, object] : expected) {
    // SQLite's automatic indexes are primary keys elsewhere.
    if (!same_engine && object.name.starts_with("sqlite_autoindex_")) continue;
    if (!actual.contains(key)) {
      out.push_back(object.type + " \"" + object.name + "\"" + on(object) + " is missing");
    }
  }
  return out;
}

Result<std::vector<std::string>> SchemaTables(int version) {
  if (version < 0 || version > LatestSchemaVersion()) {
    return InvalidInput("no schema version " + std::to_string(version));
  }
  GRAFT_ASSIGN_OR_RETURN(Database reference, BuildSchema(version));
  GRAFT_ASSIGN_OR_RETURN(auto objects, ReadSchema(reference));
  std::vector<std::string> out;
  for (const auto& [key, object] : objects) {
    if (object.type == "table") out.push_back(object.name);
  }
  return out;
}

const std::vector<ProjectedTable>& ProjectedTables() {
  static const std::vector<ProjectedTable> tables = {
      {"meta", "key"},
      {"blobs", "digest"},
      {"keys", "key_id, role"},
      {"objects", "digest"},
      {"labels", "kind, name, version"},
      {"object_files", "object, path"},
      {"edges", "src, relation, dst"},
      {"attestations", "digest"},
      {"channels", "name"},
      {"channel_history", "name, seq"},
      {"adapter_tags", "digest, key", kAdapterAnnotationsSchema, 3},
      {"adapter_descriptions", "digest", kAdapterAnnotationsSchema, 2},
  };
  return tables;
}

}  // namespace graft::registry
