// AdapterReportBuilder on a real registry: a promoted adapter's identity, re-verified checks,
// lineage, training, evaluations, decisions, approvals and log entries; tampering shows up in
// the rows it affects; nothing in the registry changes.
#include "report_builder/adapter_report_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "tests/integration/report_builder/report_registry_helpers.h"
#include "tests/support/peft_fixture.h"
#include "tests/support/registry_test_access.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

const reports::VerificationRow* Row(const reports::AdapterReportData& report,
                                    const std::string& prefix) {
  for (const reports::VerificationRow& row : report.verification) {
    if (row.check.starts_with(prefix)) return &row;
  }
  return nullptr;
}

bool HasNode(const reports::AdapterReportData& report, reports::LineageNodeKind kind,
             const std::string& label) {
  return std::any_of(
      report.lineage.nodes.begin(), report.lineage.nodes.end(),
      [&](const reports::LineageNode& n) { return n.kind == kind && n.label == label; });
}

using AdapterReportBuilderTest = ReportRegistryTest;

TEST_F(AdapterReportBuilderTest, PromotedAdapterReportsWhatTheRegistryHoldsReverified) {
  registry::ObjectRecord adapter = Promoted(1);
  const auto before = RegistryFiles();
  Result<reports::AdapterReportData> built =
      report_builder::AdapterReportBuilder(*registry_).Build("bot@production");
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  const reports::AdapterReportData& report = *built;
  EXPECT_EQ(RegistryFiles(), before);

  EXPECT_EQ(report.identity.name, "bot");
  EXPECT_EQ(report.identity.version, 1);
  EXPECT_EQ(report.identity.digest, "sha256:" + adapter.digest);
  EXPECT_EQ(report.identity.base.name, "tiny@1");
  EXPECT_EQ(report.identity.base.digest, "sha256:" + base_.digest);
  EXPECT_EQ(report.identity.stage, "production");
  EXPECT_EQ(report.identity.channels, std::vector<std::string>{"bot@production"});
  EXPECT_FALSE(report.identity.unattested);

  for (const reports::VerificationRow& row : report.verification) {
    EXPECT_TRUE(row.ok) << row.check << ": " << row.detail;
  }
  for (const std::string check :
       {"adapter files", "model.sig", "provenance sha256:", "base files", "dataset train@1",
        "policy bot@1", "evaluation sha256:", "decision sha256:", "approval sha256:",
        "log checkpoint", "log inclusion"}) {
    EXPECT_NE(Row(report, check), nullptr) << check;
  }
  EXPECT_NE(
      Row(report, "model.sig")->detail.find("trainer-ci (key " + trainer_.key_id().substr(0, 12)),
      std::string::npos)
      << Row(report, "model.sig")->detail;
  EXPECT_NE(Row(report, "log checkpoint")
                ->detail.find(std::to_string(registry_->LogSize().value()) + " events"),
            std::string::npos);

  EXPECT_TRUE(HasNode(report, reports::LineageNodeKind::kAdapter, "bot@1"));
  EXPECT_TRUE(HasNode(report, reports::LineageNodeKind::kBase, "tiny@1"));
  EXPECT_TRUE(HasNode(report, reports::LineageNodeKind::kDataset, "train@1"));
  EXPECT_TRUE(HasNode(report, reports::LineageNodeKind::kPolicy, "bot@1"));
  EXPECT_TRUE(HasNode(report, reports::LineageNodeKind::kTrainingRun, "training run run-1"));
  EXPECT_TRUE(HasNode(report, reports::LineageNodeKind::kSuite, "kpi"));
  EXPECT_TRUE(HasNode(report, reports::LineageNodeKind::kDecision, "gate decision: pass"));
  const auto& edges = report.lineage.edges;
  EXPECT_TRUE(std::any_of(edges.begin(), edges.end(), [](const reports::LineageEdge& e) {
    return e.from == "decision-0" && e.to == "evaluation-0" && e.label == "judges";
  }));

  ASSERT_TRUE(report.training.has_value());
  EXPECT_EQ(report.training->config, Json({{"seed", 1234}}));

  ASSERT_EQ(report.evaluations.size(), 1u);
  const reports::EvaluationRecord& evaluation = report.evaluations[0];
  ASSERT_EQ(evaluation.suites.size(), 1u);
  EXPECT_EQ(evaluation.suites[0].suite.name, "kpi");
  ASSERT_EQ(evaluation.suites[0].metrics.size(), 1u);
  const stats::MetricComparison& acc = evaluation.suites[0].metrics[0];
  EXPECT_EQ(acc.metric, "acc");
  EXPECT_DOUBLE_EQ(acc.delta, 0.1);
  EXPECT_DOUBLE_EQ(acc.interval.low, 0.08);
  ASSERT_TRUE(acc.mcnemar.has_value());
  EXPECT_EQ(acc.mcnemar->c, 23);
  ASSERT_EQ(acc.slices.size(), 1u);
  EXPECT_EQ(acc.slices[0].slice, "faq");
  EXPECT_EQ(acc.slices[0].n, 80u);

  ASSERT_EQ(report.decisions.size(), 1u);
  const reports::DecisionRecord& decision = report.decisions[0];
  EXPECT_EQ(decision.evaluation_id, evaluation.id);
  EXPECT_EQ(decision.decision.verdict, policies::Verdict::kPass);
  EXPECT_EQ(decision.decision.policy_digest, "sha256:" + policy_.digest);
  EXPECT_EQ(decision.key_id, evaluator_.key_id());
  EXPECT_EQ(decision.signed_by, "ci");
  const auto kpi =
      std::find_if(decision.decision.criteria.begin(), decision.decision.criteria.end(),
                   [](const policies::CriterionResult& c) { return c.name == "kpi kpi/acc"; });
  ASSERT_NE(kpi, decision.decision.criteria.end());
  EXPECT_EQ(kpi->threshold, 0.05);
  EXPECT_EQ(kpi->status, policies::CriterionStatus::kPass);
  EXPECT_FALSE(decision.time.empty());

  ASSERT_EQ(report.approvals.size(), 1u);
  EXPECT_EQ(report.approvals[0].approver, "carol");
  EXPECT_EQ(report.approvals[0].key_id, approver_.key_id());
  EXPECT_EQ(report.approvals[0].comment, "lgtm");

  std::vector<std::string> actions;
  for (const reports::LogEntry& entry : report.log) {
    actions.push_back(entry.action);
    EXPECT_TRUE(entry.inclusion_verified) << entry.seq << " " << entry.action;
  }
  for (const std::string action :
       {"adapter.register", "attestation.add", "channel.set", "stage.set", "adapter.promote"}) {
    EXPECT_NE(std::find(actions.begin(), actions.end(), action), actions.end()) << action;
  }
  EXPECT_TRUE(std::is_sorted(
      report.log.begin(), report.log.end(),
      [](const reports::LogEntry& a, const reports::LogEntry& b) { return a.seq < b.seq; }));
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "policy.register"), 0);
}

TEST_F(AdapterReportBuilderTest, ChangedDatasetBlobFailsOnlyItsRow) {
  Promoted(1);
  fs::path blob = registry::RegistryTestAccess::blobs(*registry_).PathFor(dataset_.digest).value();
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  std::fstream(blob, std::ios::in | std::ios::out | std::ios::binary).seekp(2).put('X');
  reports::AdapterReportData report =
      report_builder::AdapterReportBuilder(*registry_).Build("bot@1").value();
  EXPECT_FALSE(Row(report, "dataset train@1")->ok);
  EXPECT_TRUE(Row(report, "adapter files")->ok);
  EXPECT_TRUE(Row(report, "model.sig")->ok);
  EXPECT_TRUE(Row(report, "log checkpoint")->ok);
}

TEST_F(AdapterReportBuilderTest, EditedEventFailsTheCheckpointAndEveryInclusionProof) {
  registry::ObjectRecord adapter = Promoted(1);
  // Rewrite the promotion's reason in the log: the stored tree and checkpoint no longer match.
  ASSERT_TRUE(registry::RegistryTestAccess::db(*registry_)
                  .Exec("UPDATE events SET body = replace(body, 'promote: decision', "
                        "'promote: DECISION') WHERE body LIKE '%promote: decision%'")
                  .ok());
  reports::AdapterReportData report =
      report_builder::AdapterReportBuilder(*registry_).Build(adapter.digest).value();
  EXPECT_FALSE(Row(report, "log checkpoint")->ok);
  EXPECT_NE(Row(report, "log checkpoint")->detail.find("recomputed"), std::string::npos);
  EXPECT_FALSE(Row(report, "log inclusion")->ok);
  for (const reports::LogEntry& entry : report.log) EXPECT_FALSE(entry.inclusion_verified);
}

TEST_F(AdapterReportBuilderTest, RevokedApproverKeyFailsItsApprovalRow) {
  Promoted(1);
  ASSERT_TRUE(registry_->RevokeKey(approver_.key_id(), "laptop stolen").ok());
  reports::AdapterReportData report =
      report_builder::AdapterReportBuilder(*registry_).Build("bot").value();
  const reports::VerificationRow* approval = Row(report, "approval sha256:");
  ASSERT_NE(approval, nullptr);
  EXPECT_FALSE(approval->ok);
  EXPECT_NE(approval->detail.find("laptop stolen"), std::string::npos) << approval->detail;
}

TEST_F(AdapterReportBuilderTest, UnattestedAdapterHasNoTrainingAndAFailedSignatureRow) {
  fs::path dir = Dir("plain");
  ASSERT_TRUE(WriteLoraAdapter(dir).ok());
  ASSERT_TRUE(
      registry_->RegisterAdapter(dir, {.name = "plain", .base_ref = "tiny", .unattested = true})
          .ok());
  reports::AdapterReportData report =
      report_builder::AdapterReportBuilder(*registry_).Build("plain@1").value();
  EXPECT_TRUE(report.identity.unattested);
  EXPECT_EQ(report.identity.stage, "candidate");
  EXPECT_FALSE(report.training.has_value());
  EXPECT_FALSE(Row(report, "model.sig")->ok);
  EXPECT_TRUE(Row(report, "adapter files")->ok);
  EXPECT_TRUE(report.evaluations.empty());
}

TEST_F(AdapterReportBuilderTest, UnknownRefIsNotFound) {
  Result<reports::AdapterReportData> report =
      report_builder::AdapterReportBuilder(*registry_).Build("nobody@1");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(ExitCodeFor(report.status().kind()), 2);
}

}  // namespace
}  // namespace graft::testing
