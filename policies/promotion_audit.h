// PromotionAudit: replays the registry log from event 0 and checks that every channel change was
// allowed by the adapter's governing policy at its position (the policy-aware half of
// `graft audit verify`; the registry's own checks are registry::Auditor).
#pragma once

#include "core/status.h"
#include "registry/auditor.h"
#include "registry/registry.h"

namespace graft::policies {

class PromotionAudit {
 public:
  explicit PromotionAudit(registry::Registry& registry) : registry_(registry) {}

  // Adds one problem per channel.set that was not allowed, named by its event number:
  // a promotion needs a passing gate decision under the adapter's governing policy (the one its
  // provenance names, else its latest decision's) signed by an evaluator key trusted and not
  // revoked at that point, the policy's distinct approvals (by approver keys valid then; not
  // those separate_duties excludes), no key both signing the adapter and a decision about it when
  // separate_duties keeps trainer and evaluator apart, and nothing revoked — the adapter, its
  // base, datasets, parents' or signing keys; a rollback may only return to a version the
  // channel served before.
  // An error Status means the replay could not run.
  Status Run(registry::AuditReport& report);

 private:
  registry::Registry& registry_;
};

}  // namespace graft::policies
