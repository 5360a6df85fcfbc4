#include "registry/postgres_database.h"

#include <cctype>
#include <chrono>
#include <random>
#include <regex>
#include <thread>
#include <utility>

#include "registry/postgres_sql.h"

namespace graft::registry {

std::string RedactUri(std::string_view uri) {
  std::string out(uri);
  out = std::regex_replace(out, std::regex(R"(^(postgres(ql)?://[^:/@]*):[^@]*@)"), "$1:***@");
  out = std::regex_replace(out, std::regex(R"(([?&]password=)[^&]*)"), "$1***");
  return out;
}

namespace {

void IgnoreNotice(void*, const char*) {}

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// libpq's text of a connection failure on one line ("server closed the connection
// unexpectedly\n\tThis probably means ...").
std::string OneLine(std::string text) {
  text = Trim(std::move(text));
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// Whether `sql` begins with the keyword `word` (case-insensitive).
bool StartsWith(std::string_view sql, std::string_view word) {
  const size_t at = sql.find_first_not_of(" \n\t");
  if (at == std::string_view::npos || sql.size() - at < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(sql[at + i])) != word[i]) return false;
  }
  return sql.size() == at + word.size() ||
         !std::isalnum(static_cast<unsigned char>(sql[at + word.size()]));
}

// A statement that changes nothing when it runs outside a transaction, so that sending it again
// on a new connection cannot apply anything twice.
bool Rerunnable(std::string_view sql) {
  return StartsWith(sql, "BEGIN") || StartsWith(sql, "SELECT") || StartsWith(sql, "SET") ||
         StartsWith(sql, "SHOW");
}

bool Succeeded(const PGresult* result) {
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

}  // namespace

PostgresDatabase::PostgresDatabase(PGconn* conn, std::string name)
    : conn_(conn), name_(std::move(name)) {}

Result<std::unique_ptr<PostgresDatabase>> PostgresDatabase::Connect(std::string_view uri,
                                                                    bool read_only) {
  const std::string shown = RedactUri(uri);
  std::string text(uri);
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &parse_error);
  if (options == nullptr) {
    std::string why = parse_error != nullptr ? Trim(parse_error) : "out of memory";
    PQfreemem(parse_error);
    return InvalidInput("malformed PostgreSQL URI " + shown + ": " + why);
  }
  PQconninfoFree(options);
  // Later keywords override earlier ones: the URI's own settings win over these defaults.
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", "graft", text.c_str(), nullptr};
  std::unique_ptr<PostgresDatabase> db(
      new PostgresDatabase(PQconnectdbParams(keywords, values, /*expand_dbname=*/1), shown));
  if (!db->conn_) return InvalidInput("cannot connect to " + shown + ": out of memory");
  if (PQstatus(db->conn_.get()) != CONNECTION_OK) {
    return InvalidInput("cannot connect to the PostgreSQL registry " + shown + ": " +
                        Trim(PQerrorMessage(db->conn_.get())));
  }
  PQsetNoticeProcessor(db->conn_.get(), IgnoreNotice, nullptr);
  db->session_.push_back("SET client_min_messages = warning");
  GRAFT_RETURN_IF_ERROR(db->Exec(db->session_.back()));
  if (read_only) {
    GRAFT_RETURN_IF_ERROR(db->MakeQueryOnly());
    db->read_only_ = true;
  }
  return db;
}

Status PostgresDatabase::MakeQueryOnly() {
  session_.push_back("SET default_transaction_read_only = on");
  return Exec(session_.back());
}

Status PostgresDatabase::Reconnect() {
  PQreset(conn_.get());
  if (ConnectionLost()) {
    return InvalidInput("lost the connection to the PostgreSQL registry " + name_ +
                        " and could not connect again (" + OneLine(PQerrorMessage(conn_.get())) +
                        "); nothing of the change in progress was committed, run the command "
                        "again when the server is back");
  }
  for (auto& [sql, statement] : prepared_) statement.prepared = false;
  lost_in_transaction_ = false;
  for (const std::string& set : session_) {
    PgResult result(PQexec(conn_.get(), set.c_str()));
    if (!Succeeded(result.get())) return Error(result.get(), set);
  }
  return Status::Ok();
}

Status PostgresDatabase::Recover() {
  if (!ConnectionLost()) {
    // A serialization failure or deadlock: let the other writer finish first.
    static thread_local std::minstd_rand random(std::random_device{}());
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + random() % 90));
    return Status::Ok();
  }
  Status status = Status::Ok();
  for (int attempt = 0; attempt < kReconnectAttempts && ConnectionLost(); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 << (attempt - 1)));
    status = Reconnect();
  }
  return status;
}

Result<PgResult> PostgresDatabase::Execute(std::string_view sql, bool rerunnable,
                                           const std::function<PGresult*()>& send) {
  // A connection lost earlier (outside a transaction, or inside one that has ended since).
  if (ConnectionLost() && rerunnable && !lost_in_transaction_) {
    GRAFT_RETURN_IF_ERROR(Reconnect());
  }
  const bool idle = PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
  PgResult result(send());
  if (!Succeeded(result.get()) && idle && rerunnable && ConnectionLost()) {
    GRAFT_RETURN_IF_ERROR(Reconnect());
    result.reset(send());
  }
  if ((StartsWith(sql, "ROLLBACK") && !StartsWith(sql, "ROLLBACK TO")) ||
      StartsWith(sql, "COMMIT")) {
    lost_in_transaction_ = false;  // its owner ended the transaction
  } else if (!Succeeded(result.get()) && !idle && ConnectionLost()) {
    lost_in_transaction_ = true;
  }
  if (Succeeded(result.get())) return result;
  return Error(result.get(), sql);
}

Status PostgresDatabase::Error(const PGresult* result, std::string_view what) {
  // The server's own sentence (without libpq's "ERROR:  " and its context lines), and its
  // detail when it gives one.
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* detail =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  std::string message = primary != nullptr ? primary : OneLine(PQerrorMessage(conn_.get()));
  if (detail != nullptr) message += " (" + std::string(detail) + ")";
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state != nullptr ? state : "";
  transient_ = ConnectionLost() || code == "40001" || code == "40P01";
  if (ConnectionLost()) {
    return InvalidInput(
        "lost the connection to the PostgreSQL registry " + name_ + " (" + message +
        "); nothing of the change in progress was committed, run the command again");
  }
  std::string where = " (in: " + std::string(what.substr(0, 60)) + ")";
  if (code.starts_with("23")) return Conflict("postgresql: constraint failed: " + message);
  if (code == "42501" || code == "25006") {
    return InvalidInput("the PostgreSQL registry " + name_ +
                        " refused a change for this connection's role: " + message + where);
  }
  if (code == "40001" || code == "40P01") {
    return Conflict(
        "postgresql: the transaction conflicted with another writer and was rolled "
        "back; nothing was committed, run it again: " +
        message);
  }
  return IoError("postgresql: " + message + where);
}

Status PostgresDatabase::Exec(std::string_view sql) {
  std::string text(sql);
  return Execute(text, Rerunnable(text), [&] { return PQexec(conn_.get(), text.c_str()); })
      .status();
}

Status PostgresDatabase::ExecSchema(std::string_view ddl) { return Exec(ToPostgresDdl(ddl)); }

Result<std::unique_ptr<StatementBackend>> PostgresDatabase::Prepare(const std::string& sql) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    GRAFT_ASSIGN_OR_RETURN(PostgresSql translated, ToPostgresSql(sql));
    ServerStatement statement;
    statement.name = "graft_" + std::to_string(prepared_.size() + 1);
    statement.text = std::move(translated.text);
    constexpr Oid kTextOid = 25;
    statement.types.assign(translated.used.size(), 0);  // 0: inferred by the server
    for (size_t i = 0; i < statement.types.size(); ++i) {
      if (!translated.used[i]) statement.types[i] = kTextOid;
    }
    it = prepared_.emplace(sql, std::move(statement)).first;
  }
  ServerStatement& statement = it->second;
  GRAFT_RETURN_IF_ERROR(
      Execute("prepare " + sql, true, [&] { return PrepareOnServer(statement); }).status());
  return std::unique_ptr<StatementBackend>(
      new PostgresStatement(this, sql, static_cast<int>(statement.types.size())));
}

PGresult* PostgresDatabase::PrepareOnServer(ServerStatement& statement) {
  if (!statement.prepared) {
    PGresult* result = PQprepare(conn_.get(), statement.name.c_str(), statement.text.c_str(),
                                 static_cast<int>(statement.types.size()), statement.types.data());
    if (!Succeeded(result)) return result;
    PQclear(result);
    statement.prepared = true;
  }
  return PQmakeEmptyPGresult(conn_.get(), PGRES_COMMAND_OK);
}

Result<PgResult> PostgresDatabase::ExecPrepared(const std::string& sql,
                                                const std::vector<const char*>& values,
                                                const std::vector<int>& lengths,
                                                const std::vector<int>& binary) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) return InternalError("postgresql: not prepared: " + sql);
  ServerStatement& statement = it->second;
  return Execute(sql, Rerunnable(sql), [&]() -> PGresult* {
    PGresult* prepared = PrepareOnServer(statement);
    if (!Succeeded(prepared)) return prepared;
    PQclear(prepared);
    return PQexecPrepared(conn_.get(), statement.name.c_str(), static_cast<int>(values.size()),
                          values.data(), lengths.data(), binary.data(), /*resultFormat=*/0);
  });
}

Status PostgresDatabase::BeginWrite() {
  transient_ = false;
  write_xid_.clear();
  const std::string sql =
      "BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) + "), txid_current()";
  auto begin = [&] { return Execute(sql, true, [&] { return PQexec(conn_.get(), sql.c_str()); }); };
  Result<PgResult> began = begin();
  // The server is restarting or unreachable: nothing has started yet, so wait for it a little.
  if (!began.ok() && ConnectionLost() && Recover().ok()) began = begin();
  if (!began.ok()) {
    if (InTransaction() && !ConnectionLost()) (void)Exec("ROLLBACK");
    return began.status();
  }
  write_xid_ = PQgetvalue(began->get(), 0, 1);
  return Status::Ok();
}

Status PostgresDatabase::Commit() {
  const std::string xid = std::exchange(write_xid_, "");
  Status status = Exec("COMMIT");
  if (status.ok() || xid.empty() || !ConnectionLost()) return status;
  // The server may have committed before the connection went: ask it.
  if (!Recover().ok()) {
    return InvalidInput("lost the connection to the PostgreSQL registry " + name_ +
                        " while committing, and could not connect again to find out whether "
                        "the change was committed: look at `graft log` before running the "
                        "command again");
  }
  PgResult asked(PQexec(conn_.get(), ("SELECT txid_status(" + xid + ")").c_str()));
  if (Succeeded(asked.get()) && PQntuples(asked.get()) == 1 &&
      std::string_view(PQgetvalue(asked.get(), 0, 0)) == "committed") {
    transient_ = false;
    return Status::Ok();
  }
  return status;  // rolled back by the server: the change may run again
}

Status PostgresDatabase::BeginRead() {
  GRAFT_RETURN_IF_ERROR(Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1"));
  return Status::Ok();
}

bool PostgresDatabase::InTransaction() const {
  return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE;
}

Result<int> PostgresDatabase::SchemaVersion() {
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<StatementBackend> exists,
                         Prepare("SELECT to_regclass('graft_schema') IS NOT NULL"));
  GRAFT_ASSIGN_OR_RETURN(bool row, exists->Step());
  if (!row || exists->Int(0) == 0) return 0;
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<StatementBackend> s,
                         Prepare("SELECT version FROM graft_schema"));
  GRAFT_ASSIGN_OR_RETURN(row, s->Step());
  if (!row) return InvalidInput(name_ + ": graft_schema holds no version");
  return static_cast<int>(s->Int(0));
}

Status PostgresDatabase::SetSchemaVersion(int version) {
  GRAFT_RETURN_IF_ERROR(
      Exec("CREATE TABLE IF NOT EXISTS graft_schema(version BIGINT NOT NULL);"
           "CREATE TABLE IF NOT EXISTS blob_contents(digest TEXT PRIMARY KEY, size BIGINT NOT NULL,"
           " chunks BIGINT NOT NULL);"
           "CREATE TABLE IF NOT EXISTS blob_chunks(digest TEXT NOT NULL, idx BIGINT NOT NULL,"
           " data BYTEA NOT NULL, PRIMARY KEY(digest, idx));"
           "DELETE FROM graft_schema"));
  return Exec("INSERT INTO graft_schema(version) VALUES(" + std::to_string(version) + ")");
}

Result<std::vector<SchemaObject>> PostgresDatabase::SchemaObjects() {
  // Tables, indexes other than primary keys, triggers not made by constraints, views, rules
  // and row policies in the connection's schema.
  static const char kCatalog[] = R"sql(
SELECT 'table', tablename, tablename FROM pg_tables WHERE schemaname = current_schema()
UNION ALL
SELECT 'index', i.indexname, i.tablename FROM pg_indexes i
  WHERE i.schemaname = current_schema() AND NOT EXISTS (
    SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.contype = 'p')
UNION ALL
SELECT 'trigger', t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = current_schema() AND NOT t.tgisinternal
UNION ALL
SELECT 'view', viewname, viewname FROM pg_views WHERE schemaname = current_schema()
UNION ALL
SELECT 'rule', rulename, tablename FROM pg_rules WHERE schemaname = current_schema()
UNION ALL
SELECT 'policy', policyname, tablename FROM pg_policies WHERE schemaname = current_schema()
)sql";
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<StatementBackend> s, Prepare(kCatalog));
  std::vector<SchemaObject> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    bool own = false;  // the backend's own tables (not a trigger or rule planted on them)
    for (const char* table : kPostgresBackendTables) {
      own = own || (s->Text(0) == "table" && s->Text(1) == table);
    }
    if (!own) out.push_back({s->Text(0), s->Text(1), s->Text(2), ""});
  }
  return out;
}

}  // namespace graft::registry
