// SqliteDatabase: an RAII sqlite3 connection (WAL, a busy timeout, defensive mode) with a
// prepared-statement cache; the embedded backend of a registry directory.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "registry/database_backend.h"

namespace graft::registry {

class SqliteDatabase : public DatabaseBackend {
 public:
  // As Database::Mode.
  enum class Mode { kOpenExisting, kReadOnly, kCreate, kMemory };
  static Result<std::unique_ptr<SqliteDatabase>> Open(const std::filesystem::path& path, Mode mode);
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;
  ~SqliteDatabase() override;

  Dialect dialect() const override { return Dialect::kSqlite; }
  Status Exec(std::string_view sql) override;
  Status ExecSchema(std::string_view ddl) override { return Exec(ddl); }
  // A statement from the cache (prepared on first use). If the cached statement is in use by
  // another live statement, a fresh one is prepared.
  Result<std::unique_ptr<StatementBackend>> Prepare(const std::string& sql) override;
  Status BeginWrite() override { return Exec("BEGIN IMMEDIATE"); }
  // BEGIN DEFERRED and a first read: in WAL mode the snapshot starts at the first read.
  Status BeginRead() override;
  bool InTransaction() const override { return sqlite3_get_autocommit(db_) == 0; }
  Result<int> SchemaVersion() override;  // PRAGMA user_version
  Status SetSchemaVersion(int version) override;
  Result<std::vector<SchemaObject>> SchemaObjects() override;     // sqlite_master
  Result<std::vector<std::string>> IntegrityProblems() override;  // PRAGMA integrity_check
  std::string IntegrityCheckName() const override {
    return "SQLite integrity_check: pages, tables and every index against its table";
  }
  Status MakeQueryOnly() override { return Exec("PRAGMA query_only = ON"); }
  bool read_only() const override { return read_only_; }
  const std::string& name() const override { return name_; }

 private:
  SqliteDatabase(sqlite3* db, std::string name);
  Status Error(std::string_view what) const;
  struct Entry {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  sqlite3* db_ = nullptr;
  std::string name_;
  bool read_only_ = false;
  std::map<std::string, Entry, std::less<>> cache_;
};

}  // namespace graft::registry
