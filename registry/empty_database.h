// RequireEmptyDatabase: whether a PostgreSQL database may become a registry (graft init, a
// registry copy): empty, or graft's schema with no events yet.
#pragma once

#include <string_view>

#include "core/status.h"
#include "registry/database.h"

namespace graft::registry {

// Ok for a database with no relations in the connection's schema, or with graft's schema and no
// events (an init or copy stopped before its first events committed). A registry is kConflict;
// anything else InvalidInput ("not an empty database … `command` needs an empty one").
Status RequireEmptyDatabase(Database& db, std::string_view command);

}  // namespace graft::registry
