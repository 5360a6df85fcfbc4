// SeparateDuties: the roles a policy's `separate_duties` keeps apart, and which keys acted in more
// than one of them for one adapter (docs/policies.md, "Separation of duties").
#include "registry/vocabulary.h"
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace graft::policies {

// The duties an adapter's keys perform: signing it, signing its gate decisions, approving it.
inline constexpr std::string_view kDutyRoles[] = {registry::kTrainerRole, registry::kEvaluatorRole,
                                                  registry::kApproverRole};

class SeparateDuties {
 public:
  // `roles`: the policy's separate_duties (empty: nothing is kept apart).
  explicit SeparateDuties(std::vector<std::string> roles) : roles_(std::move(roles)) {}

  // `key_id` performed `role` for the adapter.
  void Acted(std::string_view role, const std::string& key_id);

  // Why an approval by `key_id` does not count: it performed another kept-apart duty ("the
  // trainer's key; separate_duties"); "" when it counts (or approver is not kept apart).
  std::string ApprovalExcluded(const std::string& key_id) const;

  // Keys that performed two kept-apart duties other than approving (an approval is excluded
  // instead): "key ab12... signed the adapter (trainer) and a gate decision (evaluator)".
  std::vector<std::string> Conflicts() const;

  // Whether two duties other than approver are kept apart (a "separate duties" criterion).
  bool ChecksConflicts() const;

 private:
  bool Kept(std::string_view role) const;
  std::vector<std::string> roles_;
  std::map<std::string, std::set<std::string>, std::less<>> actors_;  // role -> key ids
};

}  // namespace graft::policies
