#include "registry/empty_database.h"

#include <string>

#include "registry/schema.h"

namespace graft::registry {

Status RequireEmptyDatabase(Database& db, std::string_view command) {
  const std::string shown = db.path().string();
  GRAFT_ASSIGN_OR_RETURN(int version, SchemaVersion(db));
  if (version > 0) {
    GRAFT_ASSIGN_OR_RETURN(Statement events, db.Prepare("SELECT count(*) FROM events"));
    GRAFT_ASSIGN_OR_RETURN(bool row, events.Step());
    if (!row || events.Int(0) > 0) return Conflict(shown + " is already a graft registry");
    return Status::Ok();
  }
  GRAFT_ASSIGN_OR_RETURN(
      Statement relations,
      db.Prepare("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname = current_schema()"));
  GRAFT_ASSIGN_OR_RETURN(bool row, relations.Step());
  if (row && relations.Int(0) > 0) {
    return InvalidInput(shown + " is not an empty database (its schema holds " +
                        std::to_string(relations.Int(0)) + " relations and no graft schema); " +
                        std::string(command) + " needs an empty one");
  }
  return Status::Ok();
}

}  // namespace graft::registry
