// DatabaseBackend and StatementBackend: what a database engine (SQLite, PostgreSQL) provides under
// Database and Statement; SQL dialect differences are resolved here, not in the callers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace graft::registry {

enum class Dialect { kSqlite, kPostgres };

// One prepared statement. Parameters are 1-based; columns 0-based. Not thread-safe.
class StatementBackend {
 public:
  virtual ~StatementBackend() = default;
  virtual Status BindInt(int index, int64_t value) = 0;
  virtual Status BindText(int index, std::string_view text) = 0;
  virtual Status BindNull(int index) = 0;
  virtual Status BindBlob(int index, std::string_view bytes) = 0;
  // true: a row is available; false: done.
  virtual Result<bool> Step() = 0;
  virtual int ColumnCount() const = 0;
  virtual bool IsNull(int column) const = 0;
  virtual int64_t Int(int column) const = 0;
  virtual std::string Text(int column) const = 0;
  virtual std::string Blob(int column) const = 0;
};

// A schema object as the engine's catalog lists it (SQLite: sqlite_master).
struct SchemaObject {
  std::string type, name, table, sql;
};

// One connection. Not thread-safe: one thread uses it at a time.
class DatabaseBackend {
 public:
  virtual ~DatabaseBackend() = default;
  virtual Dialect dialect() const = 0;
  // Runs statements that return no rows (`?` parameters are not allowed here).
  virtual Status Exec(std::string_view sql) = 0;
  // Runs schema DDL written in graft's schema source (SQLite syntax: INTEGER, BLOB,
  // WITHOUT ROWID), translated to the engine's types.
  virtual Status ExecSchema(std::string_view ddl) = 0;
  virtual Result<std::unique_ptr<StatementBackend>> Prepare(const std::string& sql) = 0;
  // A write transaction that excludes every other writer until it ends (the log's appends are
  // serialised by it); waits for the current writer.
  virtual Status BeginWrite() = 0;
  // A read transaction whose snapshot is fixed when this returns.
  virtual Status BeginRead() = 0;
  virtual bool InTransaction() const = 0;
  // Commits the write transaction BeginWrite opened.
  virtual Status Commit() { return Exec("COMMIT"); }
  // Whether the last failed write transaction failed for a passing reason (a lost connection,
  // a serialization failure, a deadlock), so that running the whole change again may succeed;
  // and getting the connection ready for that (reconnecting, with backoff).
  virtual bool TransientFailure() const { return false; }
  virtual Status Recover() { return Status::Ok(); }
  // The schema version graft recorded (0: none) and recording it (inside the migration).
  virtual Result<int> SchemaVersion() = 0;
  virtual Status SetSchemaVersion(int version) = 0;
  // Every table, index, trigger and view (PostgreSQL: also rules and row policies) the engine
  // lists, except the backend's own bookkeeping (PostgreSQL: primary-key indexes, and its
  // schema version and blob tables).
  virtual Result<std::vector<SchemaObject>> SchemaObjects() = 0;
  // The engine's own consistency check: one line per problem (empty: none), and what it checks.
  virtual Result<std::vector<std::string>> IntegrityProblems() = 0;
  virtual std::string IntegrityCheckName() const = 0;
  // Refuses every later write on this connection (SQLite: PRAGMA query_only; PostgreSQL:
  // read-only transactions).
  virtual Status MakeQueryOnly() = 0;
  virtual bool read_only() const = 0;
  // The database's name for messages (a file path, or a URI without its password).
  virtual const std::string& name() const = 0;
};

}  // namespace graft::registry
