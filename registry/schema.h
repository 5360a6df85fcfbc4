// Schema: the registry's versioned SQLite schema and its forward migrations (PRAGMA user_version).
#pragma once

#include <vector>

#include "core/status.h"
#include "registry/database.h"

namespace graft::registry {

// The schema version this build writes.
int LatestSchemaVersion();

// Applies every migration above the database's user_version, in one transaction. A database
// whose version is newer than LatestSchemaVersion() is refused (an older graft must not write it).
Status MigrateSchema(Database& db);

// The tables that are a projection of the event log (audit recomputes them by replaying it),
// each with the ORDER BY clause that lists its rows in primary-key order.
struct ProjectedTable {
  const char* name;
  const char* order_by;
};
const std::vector<ProjectedTable>& ProjectedTables();

}  // namespace graft::registry
