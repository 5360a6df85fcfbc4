#include "policies/separate_duties.h"

#include "registry/vocabulary.h"

#include <algorithm>

namespace graft::policies {
bool SeparateDuties::Kept(std::string_view role) const {
  return std::find(roles_.begin(), roles_.end(), role) != roles_.end();
}

void SeparateDuties::Acted(std::string_view role, const std::string& key_id) {
  if (!key_id.empty()) actors_[std::string(role)].insert(key_id);
}

std::string SeparateDuties::ApprovalExcluded(const std::string& key_id) const {
  if (!Kept(registry::kApproverRole)) return "";
  for (std::string_view role : {registry::kTrainerRole, registry::kEvaluatorRole}) {
    auto it = actors_.find(role);
    if (Kept(role) && it != actors_.end() && it->second.contains(key_id)) {
      return std::string(role == registry::kTrainerRole ? "the trainer's" : "an evaluator's") +
             " key; separate_duties";
    }
  }
  return "";
}

bool SeparateDuties::ChecksConflicts() const {
  return Kept(registry::kTrainerRole) && Kept(registry::kEvaluatorRole);
}

std::vector<std::string> SeparateDuties::Conflicts() const {
  std::vector<std::string> out;
  if (!ChecksConflicts()) return out;
  auto trainers = actors_.find(registry::kTrainerRole);
  auto evaluators = actors_.find(registry::kEvaluatorRole);
  if (trainers == actors_.end() || evaluators == actors_.end()) return out;
  for (const std::string& key : trainers->second) {
    if (!evaluators->second.contains(key)) continue;
    out.push_back("key " + key + " signed the adapter (trainer) and a gate decision (evaluator)");
  }
  return out;
}

}  // namespace graft::policies
