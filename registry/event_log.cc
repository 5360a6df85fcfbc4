#include "registry/event_log.h"

#include <chrono>
#include <cstring>
#include <ctime>

#include "registry/authorisation.h"
#include "registry/event_store.h"

namespace graft::registry {

std::string EventLog::Now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buffer;
}

Result<uint64_t> EventLog::Size() {
  GRAFT_ASSIGN_OR_RETURN(Statement statement,
                         db_->Prepare("SELECT COALESCE(MAX(seq) + 1, 0) FROM events"));
  GRAFT_ASSIGN_OR_RETURN(bool row, statement.Step());
  return row ? static_cast<uint64_t>(statement.Int(0)) : 0;
}

Result<Event> EventLog::Append(std::string_view action, std::string_view actor, const Json& details,
                               std::string time, const PrivateKey* signer) {
  GRAFT_ASSIGN_OR_RETURN(uint64_t seq, Size());
  Event event;
  event.seq = seq;
  event.json = {{"seq", seq},
                {"time", time.empty() ? Now() : std::move(time)},
                {"actor", signer != nullptr ? std::string_view(signer->key_id()) : actor},
                {"action", action},
                {"details", details}};
  if (signer != nullptr) GRAFT_RETURN_IF_ERROR(SignEvent(event.json, *signer));
  GRAFT_ASSIGN_OR_RETURN(event.body, CanonicalJson(event.json));
  GRAFT_RETURN_IF_ERROR(StoreEvent(*db_, event));
  return event;
}

Result<Event> EventLog::Get(uint64_t seq) {
  GRAFT_ASSIGN_OR_RETURN(Statement statement,
                         db_->Prepare("SELECT body FROM events WHERE seq = ?"));
  GRAFT_RETURN_IF_ERROR(statement.Bind(1, seq));
  GRAFT_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("no event " + std::to_string(seq) + " in the log");
  Event event;
  event.seq = seq;
  event.body = statement.Text(0);
  GRAFT_ASSIGN_OR_RETURN(event.json, ParseJson(event.body, "event " + std::to_string(seq)));
  return event;
}

Result<Digest> EventLog::Subtree(int level, uint64_t index) {
  return StoredSubtree(*db_, level, index);
}

MerkleTree EventLog::Tree() {
  return MerkleTree([this](int level, uint64_t index) { return Subtree(level, index); });
}

}  // namespace graft::registry
