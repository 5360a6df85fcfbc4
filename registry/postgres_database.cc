#include "registry/postgres_database.h"

#include <regex>

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
  GRAFT_RETURN_IF_ERROR(db->Exec("SET client_min_messages = warning"));
  if (read_only) {
    GRAFT_RETURN_IF_ERROR(db->Exec("SET default_transaction_read_only = on"));
    db->read_only_ = true;
  }
  return db;
}

Status PostgresDatabase::Error(const PGresult* result, std::string_view what) const {
  std::string message = Trim(result != nullptr ? PQresultErrorMessage(result) : "");
  if (message.empty()) message = Trim(PQerrorMessage(conn_.get()));
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    return InvalidInput("lost the connection to the PostgreSQL registry " + name_ + " (" + message +
                        "); nothing of this command was committed, run it again");
  }
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state != nullptr ? state : "";
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
  PgResult result(PQexec(conn_.get(), text.c_str()));
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Status::Ok();
  return Error(result.get(), text);
}

Status PostgresDatabase::ExecSchema(std::string_view ddl) { return Exec(ToPostgresDdl(ddl)); }

Result<std::unique_ptr<StatementBackend>> PostgresDatabase::Prepare(const std::string& sql) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    GRAFT_ASSIGN_OR_RETURN(PostgresSql translated, ToPostgresSql(sql));
    std::string name = "graft_" + std::to_string(prepared_.size() + 1);
    constexpr Oid kTextOid = 25;
    std::vector<Oid> types(translated.used.size(), 0);  // 0: inferred by the server
    for (size_t i = 0; i < types.size(); ++i) {
      if (!translated.used[i]) types[i] = kTextOid;
    }
    PgResult result(PQprepare(conn_.get(), name.c_str(), translated.text.c_str(),
                              translated.parameter_count, types.data()));
    if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      return Error(result.get(), "prepare " + sql);
    }
    it = prepared_.emplace(sql, std::make_pair(name, translated.parameter_count)).first;
  }
  return std::unique_ptr<StatementBackend>(
      new PostgresStatement(this, it->second.first, it->second.second));
}

Result<PgResult> PostgresDatabase::ExecPrepared(const std::string& statement,
                                                const std::vector<const char*>& values,
                                                const std::vector<int>& lengths,
                                                const std::vector<int>& binary) {
  PgResult result(PQexecPrepared(conn_.get(), statement.c_str(), static_cast<int>(values.size()),
                                 values.data(), lengths.data(), binary.data(), /*resultFormat=*/0));
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  std::string sql = statement;
  for (const auto& [text, prepared] : prepared_) {
    if (prepared.first == statement) sql = text;
  }
  return Error(result.get(), sql);
}

Status PostgresDatabase::BeginWrite() {
  return Exec("BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) + ")");
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
