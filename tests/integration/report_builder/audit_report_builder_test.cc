// AuditReportBuilder on a real registry: promotions, rollbacks, retirements, revocations, failed
// gates and post-hoc policy attempts in log order, the period, and the verified checkpoint.
#include "report_builder/audit_report_builder.h"

#include <gtest/gtest.h>

#include "tests/integration/report_builder/report_registry_helpers.h"
#include "tests/support/peft_fixture.h"

namespace graft::testing {
namespace {

using AuditReportBuilderTest = ReportRegistryTest;

TEST_F(AuditReportBuilderTest, ListsEveryKindOfChangeInLogOrder) {
  registry::ObjectRecord first = Promoted(1);
  const uint64_t after_first = registry_->LogSize().value();
  registry::ObjectRecord second = Promoted(2);
  ASSERT_TRUE(lifecycle_->Rollback("bot", "production", "latency regression").ok());
  ASSERT_TRUE(lifecycle_->Retire(second.digest, "dataset licence withdrawn").ok());
  registry::ObjectRecord failing = Train(3, policy_.digest);
  EXPECT_EQ(Gate(failing, policy_, Evaluate(failing, 0.01), 0.01).verdict,
            policies::Verdict::kFail);
  ASSERT_TRUE(WriteFileAtomic(Dir("late.yaml"), "policy: late\npromotion: {}\n").ok());
  registry::ObjectRecord late = lifecycle_->RegisterPolicy(Dir("late.yaml")).value();
  Gate(failing, late, Evaluate(failing, 0.1), 0.1);
  ASSERT_TRUE(registry_->RevokeKey(approver_.key_id(), "laptop stolen").ok());

  const auto before = RegistryFiles();
  reports::AuditReportData audit = report_builder::AuditReportBuilder(*registry_).Build({}).value();
  EXPECT_EQ(RegistryFiles(), before);

  EXPECT_TRUE(audit.checkpoint.verified);
  EXPECT_EQ(audit.checkpoint.size, static_cast<int64_t>(registry_->LogSize().value()));
  EXPECT_EQ(audit.checkpoint.origin, registry_->origin());
  EXPECT_EQ(audit.since, registry_->GetEvent(0).value().json["time"]);
  EXPECT_EQ(audit.until,
            registry_->GetEvent(registry_->LogSize().value() - 1).value().json["time"]);

  ASSERT_EQ(audit.promotions.size(), 2u);
  EXPECT_EQ(audit.promotions[0].subject, "bot@1 -> bot@production");
  EXPECT_EQ(audit.promotions[0].digest, "sha256:" + first.digest);
  EXPECT_NE(audit.promotions[0].detail.find("new channel"), std::string::npos);
  EXPECT_EQ(audit.promotions[1].subject, "bot@2 -> bot@production");
  EXPECT_NE(audit.promotions[1].detail.find("replaces bot@1"), std::string::npos);
  EXPECT_LT(audit.promotions[0].seq, audit.promotions[1].seq);

  ASSERT_EQ(audit.rollbacks.size(), 1u);
  EXPECT_EQ(audit.rollbacks[0].subject, "bot@production -> bot@1");
  EXPECT_NE(audit.rollbacks[0].detail.find("latency regression"), std::string::npos);

  ASSERT_EQ(audit.retirements.size(), 1u);
  EXPECT_EQ(audit.retirements[0].subject, "bot@2");
  EXPECT_EQ(audit.retirements[0].detail, "dataset licence withdrawn");

  ASSERT_EQ(audit.revocations.size(), 1u);
  EXPECT_EQ(audit.revocations[0].digest, approver_.key_id());
  EXPECT_EQ(audit.revocations[0].detail, "laptop stolen");

  ASSERT_EQ(audit.failed_gates.size(), 2u);
  EXPECT_EQ(audit.failed_gates[0].subject, "bot@3");
  // 8 discordant pairs: short of the minimum evidence, so INCONCLUSIVE (and inconclusive: fail).
  EXPECT_NE(audit.failed_gates[0].detail.find("kpi kpi/acc INCONCLUSIVE (not enough evidence"),
            std::string::npos)
      << audit.failed_gates[0].detail;
  EXPECT_NE(audit.failed_gates[1].detail.find("pre-declared policy FAIL (post-hoc policy: "),
            std::string::npos)
      << audit.failed_gates[1].detail;

  ASSERT_EQ(audit.post_hoc_policy_attempts.size(), 1u);
  EXPECT_EQ(audit.post_hoc_policy_attempts[0].subject, "bot@3");
  EXPECT_EQ(audit.post_hoc_policy_attempts[0].digest, "sha256:" + late.digest);

  // From a log position: only what came after the first promotion.
  report_builder::AuditPeriod since;
  since.since_seq = after_first;
  reports::AuditReportData later =
      report_builder::AuditReportBuilder(*registry_).Build(since).value();
  ASSERT_EQ(later.promotions.size(), 1u);
  EXPECT_EQ(later.promotions[0].subject, "bot@2 -> bot@production");
  EXPECT_EQ(later.since, registry_->GetEvent(after_first).value().json["time"]);
}

TEST_F(AuditReportBuilderTest, SinceBeyondTheLogOrInTheFutureIsHandled) {
  report_builder::AuditPeriod beyond;
  beyond.since_seq = 10000;
  Result<reports::AuditReportData> refused =
      report_builder::AuditReportBuilder(*registry_).Build(beyond);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(refused.status().message().find("the log has"), std::string::npos);

  reports::AuditReportData future =
      report_builder::AuditReportBuilder(*registry_)
          .Build(report_builder::AuditPeriod::Parse("2999-01-01").value())
          .value();
  EXPECT_EQ(future.since, "2999-01-01T00:00:00.000Z");
  EXPECT_TRUE(future.promotions.empty());
  EXPECT_TRUE(future.checkpoint.verified);
}

TEST(AuditPeriodTest, ParsesPositionsDatesAndUtcTimes) {
  EXPECT_FALSE(report_builder::AuditPeriod::Parse("").value().since_seq.has_value());
  EXPECT_EQ(report_builder::AuditPeriod::Parse("42").value().since_seq, 42u);
  EXPECT_EQ(report_builder::AuditPeriod::Parse("2026-11-01").value().since_time,
            "2026-11-01T00:00:00.000Z");
  EXPECT_EQ(report_builder::AuditPeriod::Parse("2026-11-01T08:09:10Z").value().since_time,
            "2026-11-01T08:09:10.000Z");
  EXPECT_EQ(report_builder::AuditPeriod::Parse("2026-11-01T08:09:10.5Z").value().since_time,
            "2026-11-01T08:09:10.500Z");
  for (const char* bad : {"yesterday", "2026-13-01", "2026-11-01T25:00:00Z",
                          "2026-11-01T08:00:00+02:00", "-3", "99999999999999999999"}) {
    Result<report_builder::AuditPeriod> period = report_builder::AuditPeriod::Parse(bad);
    ASSERT_FALSE(period.ok()) << bad;
    EXPECT_EQ(period.status().kind(), ErrorKind::kInvalidInput) << bad;
  }
}

}  // namespace
}  // namespace graft::testing
