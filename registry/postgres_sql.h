// PostgresSql: graft's SQL (SQLite dialect, `?` and `?N` parameters) rewritten for PostgreSQL.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace graft::registry {

struct PostgresSql {
  std::string text;         // with $N parameters
  int parameter_count = 0;  // the highest N
  // used[N-1]: whether $N appears (a statement may skip numbers, as SQLite allows; the server
  // cannot infer a type for a skipped one, so it is declared text).
  std::vector<bool> used;
};

// `?` becomes the next $N, `?N` becomes $N (outside quoted strings and identifiers);
// `INSERT OR IGNORE INTO ...` becomes `INSERT INTO ... ON CONFLICT DO NOTHING`;
// `group_concat(x, sep)` becomes `string_agg(x, sep)`. Other SQLite-only forms are refused
// (InvalidInput naming them) rather than sent to the server to fail later.
Result<PostgresSql> ToPostgresSql(std::string_view sql);

// Schema DDL in SQLite's dialect as PostgreSQL DDL: INTEGER -> BIGINT (SQLite integers are 64-bit),
// BLOB -> BYTEA, TEXT -> TEXT COLLATE "C" (byte order, as SQLite compares), `WITHOUT ROWID`
// dropped.
std::string ToPostgresDdl(std::string_view ddl);

}  // namespace graft::registry
