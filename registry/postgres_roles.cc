#include "registry/postgres_roles.h"

#include <algorithm>
#include <vector>

#include "registry/postgres_database.h"
#include "registry/schema.h"

namespace graft::registry {

namespace {

// Projection tables whose rows graft updates (a stage, a revocation, the channel's current
// digest); every other table only grows.
constexpr const char* kUpdatedTables[] = {"objects",      "keys",         "channels",
                                          "adapter_tags", "adapter_descriptions", "cosignatures"};
// Projections of the log that an event can shrink (a removed tag, a cleared description); the
// audit rebuilds them from the log, which stays insert-only.
constexpr const char* kDeletedTables[] = {"adapter_tags", "adapter_descriptions"};

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

Result<std::string> PostgresGrants(Database& db) {
  GRAFT_ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT current_database(), current_schema()"));
  GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return InternalError("current_database() returned no row");
  const std::string database = "\"" + s.Text(0) + "\"";
  const std::string schema = "\"" + s.Text(1) + "\"";
  GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> tables, SchemaTables(LatestSchemaVersion()));
  for (const char* table : kPostgresBackendTables) tables.push_back(table);
  std::sort(tables.begin(), tables.end());
  std::vector<std::string> inserted;  // all but the schema version, which only init writes
  for (const std::string& table : tables) {
    if (table != "graft_schema") inserted.push_back(table);
  }
  std::vector<std::string> updated(std::begin(kUpdatedTables), std::end(kUpdatedTables));
  std::vector<std::string> deleted(std::begin(kDeletedTables), std::end(kDeletedTables));
  const std::string writer = kPostgresWriterRole;
  const std::string reader = kPostgresReaderRole;
  return "CREATE ROLE " + writer + " NOLOGIN;\n" + "CREATE ROLE " + reader + " NOLOGIN;\n" +
         "REVOKE ALL ON DATABASE " + database + " FROM PUBLIC;\n" + "REVOKE CREATE ON SCHEMA " +
         schema + " FROM PUBLIC;\n" + "GRANT CONNECT ON DATABASE " + database + " TO " + writer +
         ", " + reader + ";\n" + "GRANT USAGE ON SCHEMA " + schema + " TO " + writer + ", " +
         reader + ";\n" + "GRANT SELECT ON " + Join(tables) + " TO " + writer + ", " + reader +
         ";\n" + "GRANT INSERT ON " + Join(inserted) + " TO " + writer + ";\n" +
         "GRANT UPDATE ON " + Join(updated) + " TO " + writer + ";\n" + "GRANT DELETE ON " +
         Join(deleted) + " TO " + writer + ";\n";
}

}  // namespace graft::registry
