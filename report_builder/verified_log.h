// VerifiedLog: the registry's event log as read for a report, checked against its latest signed
// checkpoint (signature, recomputed root) with per-event inclusion proofs.
#pragma once

#include <set>
#include <unordered_map>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "registry/registry.h"
#include "reports/report_model.h"

namespace graft::report_builder {

class VerifiedLog {
 public:
  // Reads the latest checkpoint and every event it covers, verifies the checkpoint's signature
  // with the registry key and recomputes its root from the event bodies. A failed check is
  // recorded (checkpoint().verified, problem()), not returned: the report shows it. An error
  // means the log could not be read at all.
  static Result<VerifiedLog> Load(registry::Registry& registry);

  // Origin, size, base64 root (as the note states it) and whether it verified.
  const reports::CheckpointRef& checkpoint() const { return checkpoint_; }
  // Why the checkpoint did not verify ("" when it did).
  const std::string& problem() const { return problem_; }
  // Every event of the log, in log order (seq = index).
  const std::vector<registry::Event>& events() const { return events_; }

  // The events whose details name any of `digests` (lowercase hex, no "sha256:"), ascending.
  std::vector<uint64_t> EventsNaming(const std::set<std::string>& digests) const;

  // Whether an RFC 6962 inclusion proof of event `seq` (leaf hashed from the stored body) verifies
  // against the checkpoint's root. False for an unverified checkpoint or an event it does not
  // cover.
  Result<bool> ProvesInclusion(uint64_t seq) { return ProvesInclusion(seq, *registry_); }
  // The same with the proof read through `registry` (a connection to the same registry), so one
  // loaded log can serve readers on several connections (graft serve).
  Result<bool> ProvesInclusion(uint64_t seq, registry::Registry& registry) const;

 private:
  explicit VerifiedLog(registry::Registry& registry) : registry_(&registry) {}

  registry::Registry* registry_;
  reports::CheckpointRef checkpoint_;
  Digest root_{};
  std::string problem_;
  std::vector<registry::Event> events_;
  // Every digest an event's details name (as a string anywhere in them), to the events naming it.
  std::unordered_map<std::string, std::vector<uint64_t>> naming_;
};

}  // namespace graft::report_builder
