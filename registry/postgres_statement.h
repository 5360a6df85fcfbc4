// PostgresStatement: one execution of a statement prepared on a PostgreSQL connection; executed
// on the first Step, its rows held in an RAII PGresult.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

#include "registry/database_backend.h"

namespace graft::registry {

class PostgresDatabase;

// RAII for PGresult.
struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

class PostgresStatement : public StatementBackend {
 public:
  // `sql`: a statement `db` prepared (PostgresDatabase::Prepare), with `parameters` parameters.
  PostgresStatement(PostgresDatabase* db, std::string sql, int parameters);

  Status BindInt(int index, int64_t value) override;
  Status BindText(int index, std::string_view text) override;
  Status BindNull(int index) override;
  Status BindBlob(int index, std::string_view bytes) override;
  Result<bool> Step() override;
  int ColumnCount() const override;
  bool IsNull(int column) const override;
  // Integers as PostgreSQL prints them; booleans as 1 and 0.
  int64_t Int(int column) const override;
  std::string Text(int column) const override;
  // bytea columns decoded; other columns as their text.
  std::string Blob(int column) const override;

 private:
  Status Set(int index, std::string value, bool present, bool binary);
  PostgresDatabase* db_;
  std::string sql_;
  std::vector<std::string> values_;
  std::vector<char> present_;
  std::vector<int> binary_;
  PgResult result_;
  int row_ = -1;
};

}  // namespace graft::registry
