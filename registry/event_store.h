// EventStore: how the event log is stored — an event's row, its RFC 6962 leaf and every subtree
// it completes — shared by EventLog::Append and copies, which append events as another log
// stored them.
#pragma once

#include <cstdint>
#include <string>

#include "core/sha256.h"
#include "core/status.h"
#include "registry/database.h"
#include "registry/event_log.h"

namespace graft::registry {

// Inserts `event` (its seq the log's size) with its leaf and every parent subtree it completes.
Status StoreEvent(Database& db, const Event& event);

// The stored hash of the perfect subtree (level, index); kVerification if missing or malformed.
Result<Digest> StoredSubtree(Database& db, int level, uint64_t index);

// Appends an event exactly as another log stored it (`graft registry copy`): `body` must be a
// canonical event whose "seq" is the log's size; its bytes, signature included, are kept.
Result<Event> AppendEventBody(Database& db, std::string body);

}  // namespace graft::registry
