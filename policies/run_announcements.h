// RunAnnouncements: training runs announced in the registry log before they start (run.announce
// events signed by a trainer key), and which announcement an adapter's provenance answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/keys.h"
#include "core/sha256.h"
#include "core/status.h"
#include "registry/provenance.h"
#include "registry/registry.h"

namespace graft::policies {

// What a run commits to before it starts: lowercase hex SHA-256 digests.
struct RunPlan {
  std::string run_id;  // generated when empty
  std::string base;
  std::vector<std::string> datasets;  // sorted
  std::string config;                 // "" when not given
  std::string policy;
};

struct Announcement {
  uint64_t seq = 0;
  std::string time;
  std::string key_id;  // the trainer key that signed it
  RunPlan plan;

  Json ToJson() const;
};

// What a run's provenance records of its announcement (SLSA
// buildDefinition.externalParameters.announcement): the event, and its RFC 6962 inclusion proof
// against the registry's signed checkpoint taken right after the announcement.
struct AnnouncementReference {
  uint64_t seq = 0;
  std::string run_id;
  std::string checkpoint;  // the C2SP signed note
  std::vector<Digest> inclusion_proof;

  // {"seq", "run_id", "checkpoint", "inclusion_proof": [hex...]}
  Json ToJson() const;
  // Hostile input: every field checked; errors name `where`.
  static Result<AnnouncementReference> FromJson(const Json& json, const std::string& where);
};

// Which announcement an adapter's run answers, as its signed provenance names it.
struct AnnouncementCheck {
  std::optional<uint64_t> named_seq;         // the event the provenance names (nullopt: none)
  std::optional<Announcement> announcement;  // set when the named announcement verified
  std::string problem;                       // why the named one does not verify

  bool verified() const { return announcement.has_value(); }
};

class RunAnnouncements {
 public:
  explicit RunAnnouncements(registry::Registry& registry) : registry_(registry) {}

  // Appends "run.announce" signed by `trainer_key`, which must be a trusted, unrevoked trainer
  // key (kVerification otherwise). The policy must be registered.
  Result<Announcement> Announce(RunPlan plan, const PrivateKey& trainer_key);

  // Every announcement in log order; with `policy_digest`, those under that policy (the
  // candidates a statistician counts).
  Result<std::vector<Announcement>> List(const std::string& policy_digest = "");

  // The reference a run's provenance records: `announcement`'s inclusion proof against the
  // latest signed checkpoint.
  Result<AnnouncementReference> Reference(const Announcement& announcement);

  // The announcement the adapter's signed provenance names (externalParameters.announcement).
  // It counts only when the checkpoint is signed by this registry's key and matches the log as
  // stored now, the inclusion proof places the event at its sequence number under that
  // checkpoint, the event is a run.announce with the same run id, signed by a key that signed the
  // provenance, logged before the adapter, and committing to the adapter's base, policy, datasets
  // (and config, when both name one). Otherwise `problem` says what failed.
  Result<AnnouncementCheck> For(const registry::ObjectRecord& adapter);

 private:
  Result<Announcement> Verify(const registry::ObjectRecord& adapter,
                              const registry::Provenance& provenance,
                              const std::vector<std::string>& signers,
                              const AnnouncementReference& reference);
  registry::Registry& registry_;
};

}  // namespace graft::policies
