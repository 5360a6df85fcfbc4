// Schema: the registry's versioned schema (written in SQLite's dialect, translated by each backend)
// and its forward migrations.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "registry/database.h"

namespace graft::registry {

// The schema version this build writes.
int LatestSchemaVersion();

// The schema version that added the adapter_tags and adapter_descriptions tables.
inline constexpr int kAdapterAnnotationsSchema = 3;
// The schema version that added the cosignatures table.
inline constexpr int kCosignaturesSchema = 4;

// The database's schema version (SQLite: PRAGMA user_version); a negative one, or one newer than
// LatestSchemaVersion() (an older graft must not read or write it), is InvalidInput.
Result<int> SchemaVersion(Database& db);

// Applies every migration above the database's user_version, in one transaction. A database
// whose version is newer than LatestSchemaVersion() or negative is refused.
Status MigrateSchema(Database& db);

// How the database's schema (its catalog: tables, indexes, triggers, views; PostgreSQL also rules
// and row policies) differs from the one graft's migrations create at `version`: one line per
// extra, missing or changed object, naming it ("unexpected trigger \"x\" on events: CREATE TRIGGER
// ..."). Empty: it matches.
Result<std::vector<std::string>> SchemaDifferences(Database& db, int version);

// The names of the tables graft's migrations create at `version`, sorted.
Result<std::vector<std::string>> SchemaTables(int version);

// The tables that are a projection of the event log (audit recomputes them by replaying it),
// each with the ORDER BY clause that lists its rows in primary-key order.
struct ProjectedTable {
  const char* name;
  const char* order_by;
  int since = 1;          // the schema version that added it (older databases lack it)
  int event_column = -1;  // the column holding the event that wrote the row, if any
};
const std::vector<ProjectedTable>& ProjectedTables();

}  // namespace graft::registry
