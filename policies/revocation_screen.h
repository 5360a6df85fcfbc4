// RevocationScreen: what an adapter's revocations mean to the policies, read one way by the gate,
// the lifecycle and monitoring.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "policies/policy.h"
#include "registry/registry.h"

namespace graft::policies {

struct RevocationScreen {
  // Every revocation (registry::Registry::Revocations): any one stops the adapter's export, so
  // an adapter with any cannot be evaluated.
  std::vector<registry::Revocation> all;
  // What the "not revoked" requirement and the on_revoked exit criteria look at (docs/policies.md):
  // the signing key, a training dataset and the base, the adapter's own or, through parent
  // adapters, theirs ("parent/dataset").
  Revocations requirement;
  // Describe() of each revocation `requirement` counts, in `all`'s order.
  std::vector<std::string> requirement_reasons;

  // Screens the adapter's revocations as they stand now.
  static Result<RevocationScreen> Of(registry::Registry& registry,
                                     const registry::ObjectRecord& adapter);
};

}  // namespace graft::policies
