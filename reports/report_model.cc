#include "reports/report_model.h"

namespace graft::reports {

std::string_view LineageNodeKindName(LineageNodeKind kind) {
  switch (kind) {
    case LineageNodeKind::kBase:
      return "base";
    case LineageNodeKind::kDataset:
      return "dataset";
    case LineageNodeKind::kParentAdapter:
      return "parent_adapter";
    case LineageNodeKind::kTrainingRun:
      return "training_run";
    case LineageNodeKind::kPolicy:
      return "policy";
    case LineageNodeKind::kAdapter:
      return "adapter";
    case LineageNodeKind::kSuite:
      return "suite";
    case LineageNodeKind::kEvaluation:
      return "evaluation";
    case LineageNodeKind::kDecision:
      return "decision";
    case LineageNodeKind::kApproval:
      return "approval";
  }
  return "unknown";
}

int LineageColumn(LineageNodeKind kind) {
  switch (kind) {
    case LineageNodeKind::kAdapter:
      return 1;
    case LineageNodeKind::kEvaluation:
      return 2;
    case LineageNodeKind::kSuite:
    case LineageNodeKind::kDecision:
      return 3;
    case LineageNodeKind::kApproval:
      return 4;
    default:
      return 0;
  }
}

std::vector<AuditSection> AuditSections(const AuditReportData& audit) {
  return {
      {"promotions", "Promotions", &audit.promotions},
      {"rollbacks", "Rollbacks", &audit.rollbacks},
      {"retirements", "Retirements", &audit.retirements},
      {"revocations", "Revocations", &audit.revocations},
      {"failed_gates", "Failed gates", &audit.failed_gates},
      {"post_hoc_policy_attempts", "Post-hoc policy attempts", &audit.post_hoc_policy_attempts}};
}

std::string AdapterIdentity::TagsText() const {
  std::string out;
  for (const auto& [key, value] : tags) out += (out.empty() ? "" : ", ") + key + "=" + value;
  return out;
}

}  // namespace graft::reports
