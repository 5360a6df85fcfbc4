// RunAnnouncements: training runs announced in the registry log before they start (run.announce
// events signed by a trainer key), and which announcement an adapter's provenance answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/keys.h"
#include "core/status.h"
#include "registry/registry.h"

namespace graft {

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

class RunAnnouncements {
 public:
  explicit RunAnnouncements(registry::Registry& registry) : registry_(registry) {}

  // Appends "run.announce" signed by `trainer_key`, which must be a trusted, unrevoked trainer
  // key (kVerification otherwise). The policy must be registered.
  Result<Announcement> Announce(RunPlan plan, const PrivateKey& trainer_key);

  // Every announcement in log order; with `policy_digest`, those under that policy (the
  // candidates a statistician counts).
  Result<std::vector<Announcement>> List(const std::string& policy_digest = "");

  // The announcement the adapter's run answers: the latest one logged before the adapter, signed
  // by a key that signed the adapter, committing to its base, policy and datasets (as its
  // provenance names them). nullopt: the run was not announced.
  Result<std::optional<Announcement>> For(const registry::ObjectRecord& adapter);

 private:
  registry::Registry& registry_;
};

}  // namespace graft
