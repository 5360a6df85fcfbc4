#include "registry/sqlite_database.h"

#include <cctype>
#include <utility>

#include "registry/sqlite_statement.h"

namespace graft::registry {
namespace fs = std::filesystem;

namespace {

// A file: URI for `path` (RFC 3986 percent-encoding of what a URI path may not hold), with query.
std::string FileUri(const fs::path& path, std::string_view query) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = "file:";
  for (unsigned char c : fs::absolute(path).string()) {
    if (std::isalnum(c) ||
        std::string_view("/-._~").find(static_cast<char>(c)) != std::string_view::npos) {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    }
  }
  return uri + "?" + std::string(query);
}

// Error codes as plain codes; no writable_schema and no side-effecting SQL functions in the
// file's triggers or views.
void Configure(sqlite3* db) {
  sqlite3_extended_result_codes(db, 0);
  sqlite3_busy_timeout(db, 60'000);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
}

}  // namespace

SqliteDatabase::SqliteDatabase(sqlite3* db, std::string name) : db_(db), name_(std::move(name)) {}

SqliteDatabase::~SqliteDatabase() {
  // Statements must be finalized before the connection closes.
  for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
  if (db_ != nullptr) sqlite3_close(db_);
}

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const fs::path& path, Mode mode) {
  int flags = SQLITE_OPEN_NOMUTEX;
  std::string name = path.string();
  switch (mode) {
    case Mode::kOpenExisting:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case Mode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
      name = FileUri(path, "mode=ro");
      break;
    case Mode::kCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case Mode::kMemory:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MEMORY;
      name = ":memory:";
      break;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(raw, path.string()));
  if (rc != SQLITE_OK) {
    return IoError("cannot open database " + path.string() + ": " +
                   (raw != nullptr ? sqlite3_errmsg(raw) : "out of memory"));
  }
  db->read_only_ = mode == Mode::kReadOnly;
  Configure(raw);
  if (mode == Mode::kReadOnly) {
    // A read-only open still needs the WAL index (-shm) beside the file; where the directory
    // does not allow creating it (read-only media, no write permission) and there is no WAL
    // left to apply, the file alone is the database: open it immutable.
    if (db->Exec("SELECT count(*) FROM sqlite_master").ok()) return db;
    std::error_code error;
    fs::path wal = path.string() + "-wal";
    if (fs::exists(wal, error) && fs::file_size(wal, error) > 0) {
      return IoError("cannot read " + path.string() + " read-only: its write-ahead log " +
                     wal.string() +
                     " holds changes, and the directory does not allow reading them "
                     "(open it once with write access)");
    }
    sqlite3* immutable = nullptr;
    rc = sqlite3_open_v2(FileUri(path, "immutable=1").c_str(), &immutable,
                         SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
    std::unique_ptr<SqliteDatabase> fallback(new SqliteDatabase(immutable, path.string()));
    if (rc != SQLITE_OK) {
      return IoError("cannot open database " + path.string() + " read-only: " +
                     (immutable != nullptr ? sqlite3_errmsg(immutable) : "out of memory"));
    }
    fallback->read_only_ = true;
    Configure(immutable);
    return fallback;
  }
  if (mode == Mode::kCreate) GRAFT_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  GRAFT_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL"));
  return db;
}

Status SqliteDatabase::Error(std::string_view what) const {
  return IoError("sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status SqliteDatabase::Exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  if (rc == SQLITE_NOTADB) return InvalidInput(name_ + " is not a SQLite database");
  return IoError("sqlite: " + detail + " (in: " + text.substr(0, 60) + ")");
}

Result<std::unique_ptr<StatementBackend>> SqliteDatabase::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return std::unique_ptr<StatementBackend>(
        new SqliteStatement(db_, it->second.stmt, /*owned=*/false, &it->second.in_use));
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    if (sqlite3_errcode(db_) == SQLITE_NOTADB) {
      return InvalidInput(name_ + " is not a SQLite database");
    }
    return Error("prepare " + sql);
  }
  if (it != cache_.end()) {
    return std::unique_ptr<StatementBackend>(
        new SqliteStatement(db_, stmt, /*owned=*/true, nullptr));
  }
  Entry& entry = cache_[sql];
  entry.stmt = stmt;
  entry.in_use = true;
  return std::unique_ptr<StatementBackend>(
      new SqliteStatement(db_, stmt, /*owned=*/false, &entry.in_use));
}

Status SqliteDatabase::BeginRead() {
  GRAFT_RETURN_IF_ERROR(Exec("BEGIN DEFERRED"));
  Status first_read = Exec("SELECT count(*) FROM sqlite_master");
  if (!first_read.ok()) (void)Exec("COMMIT");
  return first_read;
}

Result<int> SqliteDatabase::SchemaVersion() {
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<StatementBackend> s, Prepare("PRAGMA user_version"));
  GRAFT_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return InternalError("PRAGMA user_version returned no row");
  return static_cast<int>(s->Int(0));
}

Status SqliteDatabase::SetSchemaVersion(int version) {
  return Exec("PRAGMA user_version=" + std::to_string(version));
}

Result<std::vector<SchemaObject>> SqliteDatabase::SchemaObjects() {
  GRAFT_ASSIGN_OR_RETURN(
      std::unique_ptr<StatementBackend> s,
      Prepare("SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master"));
  std::vector<SchemaObject> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    out.push_back({s->Text(0), s->Text(1), s->Text(2), s->Text(3)});
  }
  return out;
}

Result<std::vector<std::string>> SqliteDatabase::IntegrityProblems() {
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<StatementBackend> s,
                         Prepare("PRAGMA integrity_check(100)"));
  std::vector<std::string> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (std::string line = s->Text(0); line != "ok") out.push_back(std::move(line));
  }
  return out;
}

}  // namespace graft::registry
