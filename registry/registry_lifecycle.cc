// Registry lifecycle: revoking objects, stages, and channels with their history.
#include <algorithm>
#include <iterator>

#include "registry/names.h"
#include "registry/registry.h"
#include "registry/registry_internal.h"

namespace graft::registry {

namespace {

constexpr std::string_view kStages[] = {"candidate", "staging",  "production",
                                        "retired",   "rejected", "revoked"};

// Rows of (name, seq, digest, reason).
Result<std::vector<ChannelEntry>> ReadChannelEntries(Statement& s) {
  std::vector<ChannelEntry> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.Text(0), static_cast<uint64_t>(s.Int(1)), s.Text(2), s.Text(3)});
  }
  return out;
}

}  // namespace

Result<ObjectRecord> Registry::RevokeObject(std::string_view kind, const std::string& ref,
                                            const std::string& reason) {
  if (reason.empty()) return InvalidInput("a revocation needs a reason");
  ObjectRecord record;
  GRAFT_RETURN_IF_ERROR(Mutate([&](Change& change) -> Status {
    GRAFT_ASSIGN_OR_RETURN(record, Resolve(kind, ref));
    if (record.revoked_seq) {
      return Conflict(record.kind + " sha256:" + record.digest + " is already revoked");
    }
    GRAFT_RETURN_IF_ERROR(
        change.Append(record.kind + ".revoke", {{"digest", record.digest}, {"reason", reason}})
            .status());
    GRAFT_ASSIGN_OR_RETURN(record, Get(record.digest));
    return Status::Ok();
  }));
  return record;
}

Status Registry::SetStage(const std::string& digest, const std::string& stage,
                          const std::string& reason) {
  if (std::find(std::begin(kStages), std::end(kStages), stage) == std::end(kStages)) {
    return InvalidInput("unknown stage \"" + stage +
                        "\" (candidate, staging, production, retired, rejected, revoked)");
  }
  return Mutate([&](Change& change) -> Status {
    GRAFT_ASSIGN_OR_RETURN(ObjectRecord record, Get(digest));
    return change
        .Append("stage.set", {{"digest", record.digest},
                              {"stage", stage},
                              {"from", record.stage ? Json(*record.stage) : Json()},
                              {"reason", reason}})
        .status();
  });
}

Status Registry::SetChannel(const std::string& channel, const std::string& digest,
                            const std::string& reason) {
  GRAFT_RETURN_IF_ERROR(ValidateChannel(channel));
  return Mutate([&](Change& change) -> Status {
    GRAFT_ASSIGN_OR_RETURN(ObjectRecord record, Get(digest));
    return change
        .Append("channel.set",
                {{"channel", channel}, {"digest", record.digest}, {"reason", reason}})
        .status();
  });
}

Result<std::vector<ChannelEntry>> Registry::ChannelHistory(const std::string& channel) {
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         db().Prepare("SELECT name, seq, digest, reason FROM channel_history "
                                      "WHERE name = ? ORDER BY seq"));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, channel));
  return ReadChannelEntries(s);
}

Result<std::vector<ChannelEntry>> Registry::Channels() {
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         db().Prepare("SELECT c.name, c.seq, c.digest, COALESCE(h.reason, '') "
                                      "FROM channels c LEFT JOIN channel_history h "
                                      "ON h.name = c.name AND h.seq = c.seq ORDER BY c.name"));
  return ReadChannelEntries(s);
}

}  // namespace graft::registry
