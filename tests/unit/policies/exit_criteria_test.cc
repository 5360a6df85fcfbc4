// Exit criteria: monitor floors and ceilings, maximum age and revocations.
#include "policies/exit_criteria.h"

#include <gtest/gtest.h>

namespace graft::policies {
namespace {

ExitCriteria Criteria() {
  ExitCriteria exit;
  exit.monitors = {{"support-kpi", "acc", 0.80, std::nullopt},
                   {"general", "bits_per_byte", std::nullopt, 1.2}};
  exit.max_age_days = 180;
  exit.on_revoked = {RevocationKind::kKey, RevocationKind::kBase};
  return exit;
}

TEST(ExitCriteria, HealthyAdapterStays) {
  ExitFacts facts;
  facts.observations = {{"support-kpi", "acc", 0.80}, {"general", "bits_per_byte", 1.2}};
  facts.age_days = 180;
  facts.revoked.dataset = true;  // not listed in on_revoked
  EXPECT_TRUE(EvaluateExit(Criteria(), facts).empty());
}

TEST(ExitCriteria, EveryCriterionMetGivesItsReason) {
  ExitFacts facts;
  facts.observations = {{"support-kpi", "acc", 0.79}, {"general", "bits_per_byte", 1.25}};
  facts.age_days = 180.5;
  facts.revoked.key = true;
  facts.revoked.base = true;
  EXPECT_EQ(EvaluateExit(Criteria(), facts),
            (std::vector<std::string>{"support-kpi/acc = 0.79 is below the floor 0.8",
                                      "general/bits_per_byte = 1.25 is above the ceiling 1.2",
                                      "age 180.5 days exceeds max_age_days 180",
                                      "its key was revoked", "its base was revoked"}));
}

TEST(ExitCriteria, MissingObservationsAndAgeAreNoReason) {
  ExitFacts facts;
  facts.observations = {{"other-suite", "acc", 0.1}};
  EXPECT_TRUE(EvaluateExit(Criteria(), facts).empty());
  EXPECT_TRUE(EvaluateExit(ExitCriteria{}, ExitFacts{}).empty());
}

}  // namespace
}  // namespace graft::policies
