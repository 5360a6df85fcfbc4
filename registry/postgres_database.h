// PostgresDatabase: an RAII libpq connection with server-side prepared statements; the shared
// backend of a registry named by a postgresql:// URI.
#pragma once

#include <libpq-fe.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "registry/database_backend.h"
#include "registry/postgres_statement.h"

namespace graft::registry {

// The advisory lock key every write transaction takes: appends to the log are serialised.
inline constexpr int64_t kWriteLockKey = 0x6772616674;  // "graft"

// The tables the PostgreSQL backend keeps beside graft's schema (schema version, blob bytes).
inline constexpr const char* kPostgresBackendTables[] = {"graft_schema", "blob_contents",
                                                         "blob_chunks"};

class PostgresDatabase : public DatabaseBackend {
 public:
  // Connects (10 s timeout unless the URI sets connect_timeout). A malformed URI, a refused or
  // failed connection (wrong password, missing database, no server) is InvalidInput naming the
  // URI without its password.
  static Result<std::unique_ptr<PostgresDatabase>> Connect(std::string_view uri, bool read_only);
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;
  ~PostgresDatabase() override = default;

  Dialect dialect() const override { return Dialect::kPostgres; }
  Status Exec(std::string_view sql) override;
  Status ExecSchema(std::string_view ddl) override;
  Result<std::unique_ptr<StatementBackend>> Prepare(const std::string& sql) override;
  // BEGIN and pg_advisory_xact_lock(kWriteLockKey): one writer at a time, released at the end.
  Status BeginWrite() override;
  // BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY, and a first read that fixes the snapshot.
  Status BeginRead() override;
  bool InTransaction() const override;
  Result<int> SchemaVersion() override;  // graft_schema.version (0: no such table)
  // Records `version` (creating the backend's tables with the first migration).
  Status SetSchemaVersion(int version) override;
  Result<std::vector<SchemaObject>> SchemaObjects() override;
  // Every PostgreSQL data page carries no checksum graft can read from SQL; the audit relies on
  // the re-hashed blobs and the replayed log instead, and reports that here.
  Result<std::vector<std::string>> IntegrityProblems() override {
    return std::vector<std::string>();
  }
  std::string IntegrityCheckName() const override {
    return "PostgreSQL: no page-level check from SQL (tables, blobs and the log are checked "
           "below)";
  }
  Status MakeQueryOnly() override { return Exec("SET default_transaction_read_only = on"); }
  bool read_only() const override { return read_only_; }
  const std::string& name() const override { return name_; }

  // Runs a prepared statement (text parameters unless `binary`); the error mapped to a Status.
  Result<PgResult> ExecPrepared(const std::string& statement,
                                const std::vector<const char*>& values,
                                const std::vector<int>& lengths, const std::vector<int>& binary);

 private:
  struct ConnectionDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
  };
  PostgresDatabase(PGconn* conn, std::string name);
  // The failed result's error as a Status: constraint violations Conflict, privilege and
  // read-only errors InvalidInput, a lost connection InvalidInput saying nothing was committed.
  Status Error(const PGresult* result, std::string_view what) const;
  std::unique_ptr<PGconn, ConnectionDeleter> conn_;
  std::string name_;
  bool read_only_ = false;
  std::map<std::string, std::pair<std::string, int>, std::less<>> prepared_;  // sql -> name, params
};

// `uri` with its password (user:PASSWORD@ or password=...) replaced by "***", for messages.
std::string RedactUri(std::string_view uri);

}  // namespace graft::registry
