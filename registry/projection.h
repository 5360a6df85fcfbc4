// Projection: applies a logged event to the registry's tables (the tables are a view of the log).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "registry/database.h"
#include "registry/event_log.h"
#include "registry/vocabulary.h"

namespace graft::registry {

// Every table row is written by applying an event, in the same transaction that appends it;
// `graft audit verify` replays the whole log into an empty database and compares the tables.
class Projection {
 public:
  explicit Projection(Database& db) : db_(&db) {}

  Status Apply(const Event& event);

  // True when `action` changes tables (generic events appended through Registry::AppendEvent
  // may not use these actions).
  static bool Changes(std::string_view action);

 private:
  Status RegisterObject(const Event& event, std::string_view kind);
  Status AddBlobsAndEdges(const Json& details, std::string_view source);
  // adapter.tag / adapter.describe: the current tags and description of an adapter
  // (registry/annotations.h), each value checked as the command checked it.
  Status TagAdapter(const Event& event);
  Status DescribeAdapter(const Event& event);
  // The event's "digest", which must be a registered adapter's.
  Result<std::string> AnnotatedAdapter(const Event& event, const std::string& source);
  // Whether `sql` (parameters ?1 = a, and ?2 = b when not empty) returns a row.
  Result<bool> Exists(const std::string& sql, const std::string& a, const std::string& b = "");
  Database* db_;
};

}  // namespace graft::registry
