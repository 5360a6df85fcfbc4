#include "policies/revocation_screen.h"

#include "registry/vocabulary.h"

#include <optional>

namespace graft::policies {
namespace {

// The requirement's kind of a revoked dependency, by the last part of its relation
// ("parent/signed_by" counts as "signed_by"); nullopt for what the requirement does not count.
std::optional<RevocationKind> RequirementKind(const registry::Revocation& revocation) {
  const std::string relation = revocation.relation.substr(revocation.relation.rfind('/') + 1);
  if (relation == registry::kSignedByRelation) return RevocationKind::kKey;
  if (relation == registry::kDatasetRelation) return RevocationKind::kDataset;
  if (relation == registry::kBaseRelation) return RevocationKind::kBase;
  return std::nullopt;
}

}  // namespace

Result<RevocationScreen> RevocationScreen::Of(registry::Registry& registry,
                                              const registry::ObjectRecord& adapter) {
  RevocationScreen screen;
  GRAFT_ASSIGN_OR_RETURN(screen.all, registry.Revocations(adapter));
  for (const registry::Revocation& r : screen.all) {
    const std::optional<RevocationKind> kind = RequirementKind(r);
    if (!kind) continue;
    screen.requirement.key = screen.requirement.key || kind == RevocationKind::kKey;
    screen.requirement.dataset = screen.requirement.dataset || kind == RevocationKind::kDataset;
    screen.requirement.base = screen.requirement.base || kind == RevocationKind::kBase;
    screen.requirement_reasons.push_back(r.Describe());
  }
  return screen;
}

}  // namespace graft::policies
