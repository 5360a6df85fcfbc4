// Database: one connection to a registry database, SQLite (a file) or PostgreSQL (a libpq URI),
// with a prepared-statement cache. Not thread-safe: one thread uses a Database at a time.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "registry/database_backend.h"
#include "registry/statement.h"

namespace graft::registry {

class Database {
 public:
  // kOpenExisting: read-write, never created, its journal mode left as it is (opening writes
  // nothing). kReadOnly: SQLite's read-only open (mode=ro), and when the directory does not let
  // it create the WAL index, an immutable open of a database with no pending WAL. kCreate:
  // created if absent and switched to WAL mode. kMemory: a private in-memory database.
  enum class Mode { kOpenExisting, kReadOnly, kCreate, kMemory };

  // Opens the SQLite database at `path` with a busy timeout, so concurrent writers wait for each
  // other instead of failing, in SQLite's defensive mode (no writable_schema, untrusted schema).
  static Result<Database> Open(const std::filesystem::path& path, Mode mode = Mode::kOpenExisting);
  // Connects to the PostgreSQL database named by a libpq URI (IsPostgresUri). `read_only`: every
  // transaction of the session is read-only.
  static Result<Database> Connect(std::string_view uri, bool read_only = false);
  // Whether `location` is a PostgreSQL URI (postgresql:// or postgres://) rather than a path.
  static bool IsPostgresUri(std::string_view location);

  explicit Database(std::unique_ptr<DatabaseBackend> backend) : backend_(std::move(backend)) {}
  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;
  ~Database() = default;

  // Runs one or more statements that return no rows.
  Status Exec(std::string_view sql) { return backend_->Exec(sql); }
  // A statement from the cache (prepared on first use). If the cached statement is in use by
  // another live Statement, a fresh one is prepared. `?` and `?N` are the parameters on every
  // backend.
  Result<Statement> Prepare(const std::string& sql);
  // Prepare + bind + run to completion.
  template <typename... Args>
  Status Run(const std::string& sql, const Args&... args) {
    GRAFT_ASSIGN_OR_RETURN(Statement statement, Prepare(sql));
    GRAFT_RETURN_IF_ERROR(statement.BindAll(args...));
    return statement.Run();
  }

  DatabaseBackend& backend() { return *backend_; }
  Dialect dialect() const { return backend_->dialect(); }
  bool in_transaction() const { return backend_->InTransaction(); }
  bool read_only() const { return backend_->read_only(); }
  // Refuses every later write on this connection (a server's read-only pool).
  Status MakeQueryOnly() { return backend_->MakeQueryOnly(); }
  // The file (SQLite) or the URI without its password (PostgreSQL), for messages.
  std::filesystem::path path() const { return backend_->name(); }

 private:
  std::unique_ptr<DatabaseBackend> backend_;
};

}  // namespace graft::registry
