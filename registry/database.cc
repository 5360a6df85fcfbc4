#include "registry/database.h"

#include <utility>

namespace graft::registry {
namespace fs = std::filesystem;

namespace {

struct Finalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

}  // namespace

struct Database::Cache {
  struct Entry {
    std::unique_ptr<sqlite3_stmt, Finalizer> stmt;
    bool in_use = false;
  };
  std::map<std::string, Entry, std::less<>> entries;
};

Database::Database(sqlite3* db, fs::path path)
    : db_(db), path_(std::move(path)), cache_(std::make_unique<Cache>()) {}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      cache_(std::move(other.cache_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    cache_.reset();
    if (db_ != nullptr) sqlite3_close(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    cache_ = std::move(other.cache_);
  }
  return *this;
}

Database::~Database() {
  cache_.reset();  // statements must be finalized before the connection closes
  if (db_ != nullptr) sqlite3_close(db_);
}

Result<Database> Database::Open(const fs::path& path, Mode mode) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (mode != Mode::kOpenExisting) flags |= SQLITE_OPEN_CREATE;
  if (mode == Mode::kMemory) flags |= SQLITE_OPEN_MEMORY;
  std::string name = mode == Mode::kMemory ? ":memory:" : path.string();
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  Database db(raw, path);
  if (rc != SQLITE_OK) {
    return IoError("cannot open database " + name + ": " +
                   (raw != nullptr ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_extended_result_codes(raw, 0);
  sqlite3_busy_timeout(raw, 60'000);
  if (mode != Mode::kMemory) GRAFT_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode=WAL"));
  GRAFT_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL"));
  return db;
}

Status Database::Error(std::string_view what) const {
  return IoError("sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  if (rc == SQLITE_NOTADB) return InvalidInput(path_.string() + " is not a SQLite database");
  return IoError("sqlite: " + detail + " (in: " + text.substr(0, 60) + ")");
}

Result<Statement> Database::Prepare(const std::string& sql) {
  auto it = cache_->entries.find(sql);
  if (it != cache_->entries.end() && !it->second.in_use) {
    it->second.in_use = true;
    return Statement(db_, it->second.stmt.get(), /*owned=*/false, &it->second.in_use);
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    if (sqlite3_errcode(db_) == SQLITE_NOTADB) {
      return InvalidInput(path_.string() + " is not a SQLite database");
    }
    return Error("prepare " + sql);
  }
  if (it != cache_->entries.end()) return Statement(db_, stmt, /*owned=*/true, nullptr);
  auto& entry = cache_->entries[sql];
  entry.stmt.reset(stmt);
  entry.in_use = true;
  return Statement(db_, stmt, /*owned=*/false, &entry.in_use);
}

}  // namespace graft::registry
