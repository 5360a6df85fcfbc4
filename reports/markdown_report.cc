#include "reports/markdown_report.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "reports/escape.h"
#include "reports/evaluation_rows.h"
#include "reports/number_format.h"

namespace graft::reports {
namespace {

// A GitHub-flavoured Markdown table; every cell is escaped.
class Table {
 public:
  // Headers ending in ':' are right-aligned (numbers); the ':' is not shown.
  explicit Table(std::vector<std::string_view> headers) {
    std::string rule = "|";
    text_ = "|";
    for (std::string_view h : headers) {
      const bool right = !h.empty() && h.back() == ':';
      if (right) h.remove_suffix(1);
      text_ += " " + MarkdownInline(h) + " |";
      rule += right ? "---:|" : "---|";
    }
    text_ += "\n" + rule + "\n";
  }
  void Row(const std::vector<std::string>& cells) {
    text_ += "|";
    for (const std::string& cell : cells) text_ += " " + MarkdownInline(cell) + " |";
    text_ += "\n";
  }
  std::string Text() const { return text_ + "\n"; }

 private:
  std::string text_;
};

std::string Heading(int level, std::string_view text) {
  return std::string(level, '#') + " " + MarkdownInline(text) + "\n\n";
}

std::string Paragraph(std::string_view text) { return MarkdownInline(text) + "\n\n"; }

policies::CriterionStatus VerdictStatus(policies::Verdict verdict) {
  switch (verdict) {
    case policies::Verdict::kPass:
      return policies::CriterionStatus::kPass;
    case policies::Verdict::kInconclusive:
      return policies::CriterionStatus::kInconclusive;
    case policies::Verdict::kFail:
      break;
  }
  return policies::CriterionStatus::kFail;
}

std::string VerdictLine(const policies::Decision& d, std::string_view subject) {
  return StatusBadge(VerdictStatus(d.verdict)) + ": " + MarkdownInline(subject);
}

std::string CriteriaTable(const policies::Decision& d) {
  Table table({"criterion", "base:", "adapter:", "delta:", "interval", "threshold:", "test",
               "status", "reason"});
  for (const policies::CriterionResult& c : d.criteria) {
    table.Row({c.name, FormatOptional(c.base), FormatOptional(c.adapter),
               c.delta ? FormatSigned(*c.delta) : "", FormatCriterionInterval(c),
               FormatOptional(c.threshold), c.test, StatusBadge(c.status), c.reason});
  }
  return table.Text();
}

// Gate mode: which look this is, how many candidates were gated under the policy, and the
// one-sided family level the statistical criteria were tested at.
std::string SequentialLine(const policies::Decision& d) {
  if (d.mode != policies::DecisionMode::kGate) return "";
  return " Look " + std::to_string(d.look) +
         (d.max_looks ? " of " + std::to_string(*d.max_looks) + " (" + d.alpha_spending + ")"
                      : "") +
         "; " + std::to_string(d.candidates) + " candidate" + (d.candidates == 1 ? "" : "s") +
         " gated under the policy" +
         (d.max_candidates ? " (max " + std::to_string(*d.max_candidates) + ")" : "") +
         "; one-sided alpha " + policies::FormatNumber(d.alpha) + ".";
}

std::string PolicyLine(const policies::Decision& d) {
  return "Policy " + d.policy + " (" + d.policy_digest + "), " +
         std::string(policies::DecisionModeName(d.mode)) + " at " + FormatPercent(d.confidence) +
         " confidence, inconclusive: " + d.inconclusive + ", exit code " +
         std::to_string(d.exit_code) + "." + SequentialLine(d);
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// A fenced code block whose fence is longer than any backtick run in `text`.
std::string CodeBlock(std::string_view language, std::string_view text) {
  const std::string clean = SanitizeText(text);
  size_t longest = 0;
  size_t run = 0;
  for (char c : clean) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<size_t>(3, longest + 1), '`');
  return fence + std::string(language) + "\n" + clean + "\n" + fence + "\n\n";
}

std::string IdentitySection(const AdapterIdentity& id) {
  Table table({"field", "value"});
  table.Row({"name", id.name + "@" + std::to_string(id.version)});
  table.Row({"digest", id.digest});
  table.Row({"base", id.base.name + " (" + id.base.digest + ")"});
  table.Row({"stage", id.stage});
  table.Row({"channels", Join(id.channels, ", ")});
  table.Row({"attested", id.unattested ? "no: registered without a training attestation" : "yes"});
  if (!id.tags.empty()) table.Row({"tags", id.TagsText()});
  if (id.description) table.Row({"description", *id.description});
  return Heading(2, "Identity") + table.Text();
}

std::string VerificationSection(const std::vector<VerificationRow>& rows) {
  Table table({"check", "result", "detail"});
  for (const VerificationRow& row : rows) {
    table.Row({row.check, row.ok ? "✅ ok" : "❌ failed", row.detail});
  }
  return Heading(2, "Verification") + table.Text();
}

std::string LineageSection(const LineageGraph& graph) {
  Table nodes({"node", "kind", "label", "digest"});
  for (const LineageNode& n : graph.nodes) {
    nodes.Row({n.id, std::string(LineageNodeKindName(n.kind)), n.label, n.digest});
  }
  Table edges({"from", "to", "edge"});
  for (const LineageEdge& e : graph.edges) edges.Row({e.from, e.to, e.label});
  return Heading(2, "Lineage") + nodes.Text() + edges.Text();
}

std::string TrainingSection(const TrainingSummary& training) {
  std::string out =
      Heading(2, "Training") +
      CodeBlock("json", training.config.dump(2, ' ', false, Json::error_handler_t::replace));
  if (!training.loss.empty()) {
    const LossPoint& last = training.loss.back();
    std::string line = "Final loss at step " + std::to_string(last.step) + ": train " +
                       FormatValue(last.train_loss);
    if (last.valid_loss) line += ", validation " + FormatValue(*last.valid_loss);
    out += Paragraph(line + " (" + std::to_string(training.loss.size()) + " points).");
  }
  return out;
}

std::string EvaluationSection(const EvaluationRecord& evaluation,
                              const std::vector<DecisionRecord>& decisions) {
  std::string out = Heading(3, "Evaluation " + evaluation.id);
  std::vector<std::string> suites;
  for (const SuiteResults& s : evaluation.suites) {
    suites.push_back(s.suite.name + " (" + s.suite.digest + ")");
  }
  out += Paragraph("At " + evaluation.time + " on " + Join(suites, ", ") + ".");
  Table table({"suite", "metric", "slice", "n:", "base:", "adapter:", "delta:", "interval",
               "threshold:", "status"});
  for (const EvaluationRow& row : EvaluationRows(evaluation, decisions)) {
    const stats::MetricComparison& m = *row.comparison;
    const std::optional<double> threshold = row.delta_threshold();
    table.Row({row.suite->suite.name, m.metric, m.slice, std::to_string(m.n), FormatValue(m.base),
               FormatValue(m.adapter), FormatSigned(m.delta),
               FormatIntervalAt(row.interval(), row.confidence()),
               threshold ? FormatSigned(*threshold) : "",
               row.criterion ? StatusBadge(row.criterion->status) : ""});
  }
  return out + table.Text();
}

std::string DecisionsSection(const std::vector<DecisionRecord>& decisions) {
  std::string out = Heading(2, "Decisions");
  for (const DecisionRecord& record : decisions) {
    out += "### " + VerdictLine(record.decision, record.id) + "\n\n";
    out += Paragraph("Evaluation " + record.evaluation_id + "; signed by " + record.signed_by +
                     " (key " + record.key_id + ") at " + record.time + ".");
    out += Paragraph(PolicyLine(record.decision)) + CriteriaTable(record.decision);
  }
  return out;
}

std::string ApprovalsSection(const std::vector<ApprovalRecord>& approvals) {
  Table table({"approver", "key id", "time", "comment"});
  for (const ApprovalRecord& a : approvals) table.Row({a.approver, a.key_id, a.time, a.comment});
  return Heading(2, "Approvals") + table.Text();
}

std::string LogSection(const std::vector<LogEntry>& log) {
  Table table({"seq:", "time", "actor", "action", "digests", "inclusion proof"});
  for (const LogEntry& e : log) {
    table.Row({std::to_string(e.seq), e.time, e.actor, e.action, Join(e.digests, ", "),
               e.inclusion_verified ? "✅ verified" : "❌ not verified"});
  }
  return Heading(2, "Log") + table.Text();
}

}  // namespace

std::string StatusBadge(policies::CriterionStatus status) {
  switch (status) {
    case policies::CriterionStatus::kPass:
      return "✅ PASS";
    case policies::CriterionStatus::kFail:
      return "❌ FAIL";
    case policies::CriterionStatus::kInconclusive:
      return "⚠️ INCONCLUSIVE";
    case policies::CriterionStatus::kPending:
      return "⏳ PENDING";
  }
  return "❌ FAIL";
}

std::string RenderGateMarkdown(const GateReportData& gate) {
  const policies::Decision& d = gate.decision;
  return "## " + VerdictLine(d, gate.adapter.name) + "\n\n" +
         Paragraph("Adapter " + gate.adapter.digest + " on base " + gate.base.name + " (" +
                   gate.base.digest + ").") +
         Paragraph(PolicyLine(d)) + CriteriaTable(d);
}

std::string RenderAdapterMarkdown(const AdapterReportData& report) {
  const AdapterIdentity& id = report.identity;
  std::string out = Heading(1, "Adapter report: " + id.name + "@" + std::to_string(id.version)) +
                    IdentitySection(id) + VerificationSection(report.verification) +
                    LineageSection(report.lineage);
  if (report.training) out += TrainingSection(*report.training);
  out += Heading(2, "Evaluations");
  for (const EvaluationRecord& e : report.evaluations) {
    out += EvaluationSection(e, report.decisions);
  }
  return out + DecisionsSection(report.decisions) + ApprovalsSection(report.approvals) +
         LogSection(report.log);
}

std::string RenderAuditMarkdown(const AuditReportData& audit) {
  const CheckpointRef& cp = audit.checkpoint;
  std::string out = Heading(1, "Audit report: " + audit.since + " to " + audit.until) +
                    Paragraph(std::string(cp.verified ? "✅ Verified" : "❌ Not verified") +
                              " against checkpoint " + cp.origin + ", size " +
                              std::to_string(cp.size) + ", root " + cp.root + ".");
  for (const AuditSection& section : AuditSections(audit)) {
    out += Heading(
        2, std::string(section.title) + " (" + std::to_string(section.events->size()) + ")");
    if (section.events->empty()) {
      out += Paragraph("None.");
      continue;
    }
    Table table({"seq:", "time", "actor", "subject", "digest", "detail"});
    for (const AuditEvent& e : *section.events) {
      table.Row({std::to_string(e.seq), e.time, e.actor, e.subject, e.digest, e.detail});
    }
    out += table.Text();
  }
  return out;
}

}  // namespace graft::reports
