// Database: an RAII sqlite3 connection with WAL, a busy timeout and a prepared-statement cache.
// Thread-safety: not thread-safe (the statement cache is unguarded); one Database per thread.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "registry/statement.h"

namespace graft::registry {

class Database {
 public:
  // kOpenExisting: read-write, never created, its journal mode left as it is (opening writes
  // nothing). kReadOnly: SQLite's read-only open (mode=ro), and when the directory does not let
  // it create the WAL index, an immutable open of a database with no pending WAL. kCreate:
  // created if absent and switched to WAL mode. kMemory: a private in-memory database.
  enum class Mode { kOpenExisting, kReadOnly, kCreate, kMemory };

  // Opens the database at `path` with a busy timeout, so concurrent writers wait for each other
  // instead of failing, in SQLite's defensive mode (no writable_schema, untrusted schema).
  static Result<Database> Open(const std::filesystem::path& path, Mode mode = Mode::kOpenExisting);

  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  ~Database();

  // Runs one or more statements that return no rows.
  Status Exec(std::string_view sql);
  // A statement from the cache (prepared on first use). If the cached statement is in use by
  // another live Statement, a fresh one is prepared.
  Result<Statement> Prepare(const std::string& sql);
  // Prepare + bind + run to completion.
  template <typename... Args>
  Status Run(const std::string& sql, const Args&... args) {
    GRAFT_ASSIGN_OR_RETURN(Statement statement, Prepare(sql));
    GRAFT_RETURN_IF_ERROR(statement.BindAll(args...));
    return statement.Run();
  }

  sqlite3* handle() const { return db_; }
  bool read_only() const { return read_only_; }
  const std::filesystem::path& path() const { return path_; }
  Status Error(std::string_view what) const;

 private:
  Database(sqlite3* db, std::filesystem::path path);
  struct Cache;
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  bool read_only_ = false;
  std::unique_ptr<Cache> cache_;
};

}  // namespace graft::registry
