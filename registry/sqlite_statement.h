// SqliteStatement: a prepared sqlite3 statement; a cached one is reset and its bindings cleared
// on release, an owned one finalized.
#pragma once

#include <sqlite3.h>

#include "registry/database_backend.h"

namespace graft::registry {

class SqliteStatement : public StatementBackend {
 public:
  // `owned` finalizes `stmt` on destruction; otherwise it is reset and `*in_use` cleared.
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, bool owned, bool* in_use)
      : db_(db), stmt_(stmt), owned_(owned), in_use_(in_use) {}
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement() override;

  Status BindInt(int index, int64_t value) override;
  Status BindText(int index, std::string_view text) override;
  Status BindNull(int index) override;
  Status BindBlob(int index, std::string_view bytes) override;
  Result<bool> Step() override;
  int ColumnCount() const override;
  bool IsNull(int column) const override;
  int64_t Int(int column) const override;
  std::string Text(int column) const override;
  std::string Blob(int column) const override;

 private:
  Status Check(int rc) const;
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool owned_;
  bool* in_use_;
};

}  // namespace graft::registry
