// PostgresDatabase: an RAII libpq connection with server-side prepared statements; the shared
// backend of a registry named by a postgresql:// URI.
#pragma once

#include <libpq-fe.h>

#include <functional>
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
  // Also notes the transaction's id, so a commit whose answer was lost can be looked up. When
  // the server cannot be reached, waits for it as Recover does.
  Status BeginWrite() override;
  // COMMIT; when the connection is lost before the server answers, reconnects and asks the
  // server whether the transaction committed (txid_status) instead of guessing.
  Status Commit() override;
  bool TransientFailure() const override { return transient_; }
  // Reconnects when the connection is lost (up to kReconnectAttempts, with backoff).
  Status Recover() override;
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
  Status MakeQueryOnly() override;
  bool read_only() const override { return read_only_; }
  const std::string& name() const override { return name_; }

  // Runs the statement `sql` (prepared by Prepare; prepared again on a new connection) with
  // text parameters unless `binary`; the error mapped to a Status.
  Result<PgResult> ExecPrepared(const std::string& sql, const std::vector<const char*>& values,
                                const std::vector<int>& lengths, const std::vector<int>& binary);

  // How often Recover tries to reconnect, waiting 100 ms, 200 ms, 400 ms, ... in between.
  static constexpr int kReconnectAttempts = 6;

 private:
  struct ConnectionDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
  };
  // A statement prepared (or to be prepared again) on the connection.
  struct ServerStatement {
    std::string name, text;  // text: translated for PostgreSQL
    std::vector<Oid> types;
    bool prepared = false;  // on the current connection
  };
  PostgresDatabase(PGconn* conn, std::string name);
  // Sends one statement (`sql`, for messages) through `send` and returns its result. A
  // `rerunnable` one (it only reads, prepares or starts a transaction) sent on a connection the
  // server dropped while idle (a server restart, an idle timeout, pg_terminate_backend) is sent
  // again once on a new connection.
  Result<PgResult> Execute(std::string_view sql, bool rerunnable,
                           const std::function<PGresult*()>& send);
  // Prepares `statement` on the server unless it is already: a successful empty result, or the
  // failed one.
  PGresult* PrepareOnServer(ServerStatement& statement);
  // A new connection with the same parameters and session settings (PQreset); prepared
  // statements are prepared again on first use.
  Status Reconnect();
  bool ConnectionLost() const { return PQstatus(conn_.get()) != CONNECTION_OK; }
  // The failed result's error as a Status: constraint violations Conflict, privilege and
  // read-only errors InvalidInput, a lost connection InvalidInput saying nothing was committed.
  // Notes whether the failure is transient.
  Status Error(const PGresult* result, std::string_view what);
  std::unique_ptr<PGconn, ConnectionDeleter> conn_;
  std::string name_;
  bool read_only_ = false;
  std::vector<std::string> session_;  // the SET statements every new connection runs
  std::map<std::string, ServerStatement, std::less<>> prepared_;  // by graft's SQL
  std::string write_xid_;  // the open write transaction's id (txid_current)
  bool transient_ = false;
  // The connection was lost inside a transaction its owner has not ended yet (ROLLBACK or
  // COMMIT): statements fail until then rather than run outside that transaction.
  bool lost_in_transaction_ = false;
};

// `uri` with its password (user:PASSWORD@ or password=...) replaced by "***", for messages.
std::string RedactUri(std::string_view uri);

}  // namespace graft::registry
