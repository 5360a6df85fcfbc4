// PostgresRoles: the GRANT statements that make a PostgreSQL registry append-only for graft's
// writers (INSERT, no UPDATE or DELETE on the log and evidence) and read-only for auditors.
#pragma once

#include <string>

#include "core/status.h"
#include "registry/database.h"

namespace graft::registry {

inline constexpr char kPostgresWriterRole[] = "graft_writer";
inline constexpr char kPostgresReaderRole[] = "graft_reader";

// The SQL an administrator (the database's owner) runs once after `graft init`: the two group
// roles, SELECT for both, INSERT on every table for the writer, and UPDATE only on the
// projection tables whose rows change (objects, keys, channels). No role gets DELETE, TRUNCATE
// or DDL. Login roles join a group: CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE graft_writer.
Result<std::string> PostgresGrants(Database& db);

}  // namespace graft::registry
