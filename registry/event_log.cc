#include "registry/event_log.h"

#include <chrono>
#include <cstring>
#include <ctime>

#include "registry/authorisation.h"

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
  GRAFT_RETURN_IF_ERROR(
      db_->Run("INSERT INTO events(seq, body) VALUES(?, ?)", event.seq, event.body));
  // Store the leaf, then each parent this leaf completes (a right child completes its parent).
  Digest hash = MerkleLeafHash(event.body);
  int level = 0;
  uint64_t index = seq;
  const std::string insert = "INSERT INTO merkle_nodes(level, idx, hash) VALUES(?, ?, ?)";
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(Statement statement, db_->Prepare(insert));
    GRAFT_RETURN_IF_ERROR(statement.BindAll(level, index));
    GRAFT_RETURN_IF_ERROR(statement.BindBlob(
        3, std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size())));
    GRAFT_RETURN_IF_ERROR(statement.Run());
    if (index % 2 == 0) break;
    GRAFT_ASSIGN_OR_RETURN(Digest left, Subtree(level, index - 1));
    hash = MerkleNodeHash(left, hash);
    ++level;
    index /= 2;
  }
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
  GRAFT_ASSIGN_OR_RETURN(Statement statement,
                         db_->Prepare("SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?"));
  GRAFT_RETURN_IF_ERROR(statement.BindAll(level, index));
  GRAFT_ASSIGN_OR_RETURN(bool row, statement.Step());
  std::string bytes = row ? statement.Blob(0) : std::string();
  if (bytes.size() != 32) {
    return VerificationFailed("stored tree hash (level " + std::to_string(level) + ", index " +
                              std::to_string(index) + ") is missing or malformed");
  }
  Digest digest{};
  std::memcpy(digest.data(), bytes.data(), digest.size());
  return digest;
}

MerkleTree EventLog::Tree() {
  return MerkleTree([this](int level, uint64_t index) { return Subtree(level, index); });
}

}  // namespace graft::registry
