#include "registry/database.h"

#include "registry/postgres_database.h"
#include "registry/sqlite_database.h"

namespace graft::registry {

Result<Database> Database::Open(const std::filesystem::path& path, Mode mode) {
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDatabase> db,
                         SqliteDatabase::Open(path, static_cast<SqliteDatabase::Mode>(mode)));
  return Database(std::move(db));
}

Result<Database> Database::Connect(std::string_view uri, bool read_only) {
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<PostgresDatabase> db,
                         PostgresDatabase::Connect(uri, read_only));
  return Database(std::move(db));
}

bool Database::IsPostgresUri(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

Result<Statement> Database::Prepare(const std::string& sql) {
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<StatementBackend> statement, backend_->Prepare(sql));
  return Statement(std::move(statement));
}

}  // namespace graft::registry
