#include "reports/html_report.h"

#include <string_view>
#include <utility>
#include <vector>

#include "reports/escape.h"
#include "reports/evaluation_rows.h"
#include "reports/forest_plot.h"
#include "reports/lineage_svg.h"
#include "reports/loss_chart.h"
#include "reports/number_format.h"

namespace graft::reports {
namespace {

constexpr std::string_view kStyle = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f1f5f9; color: #0f172a;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 36px 48px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #e2e8f0; }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.meta { color: #475569; margin: 4px 0 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 13px; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e2e8f0; text-align: left; vertical-align: top; }
th { background: #f8fafc; font-weight: 600; color: #334155; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.mono, span.mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px;
  word-break: break-all; }
td.reason { min-width: 10em; }
td.time { white-space: nowrap; }
td.text { white-space: pre-wrap; }
pre { background: #f8fafc; border: 1px solid #e2e8f0; padding: 8px 12px; overflow-x: auto;
  font-size: 12px; white-space: pre-wrap; word-break: break-all; }
.badge { display: inline-block; padding: 0 8px; border-radius: 9px; font-size: 12px;
  font-weight: 600; white-space: nowrap; }
.badge.status-pass { background: #dcfce7; color: #166534; }
.badge.status-fail { background: #fee2e2; color: #991b1b; }
.badge.status-inconclusive { background: #fef3c7; color: #92400e; }
.badge.status-pending { background: #dbeafe; color: #1e40af; }
.badge.status-none { background: #f1f5f9; color: #475569; }
figure { margin: 8px 0 12px; overflow-x: auto; }
figcaption { color: #475569; font-size: 12px; }
svg { max-width: 100%; height: auto; display: block; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  fill: #0f172a; }
svg .axis { stroke: #64748b; }
svg .grid { stroke: #e2e8f0; }
svg .tick, svg .axis-label, svg .value, svg .node-kind { fill: #475569; }
svg .band { fill: #f8fafc; }
svg .label.slice { fill: #475569; }
svg .zero { stroke: #0f172a; stroke-width: 1.2; }
svg .ci { stroke-width: 2.5; }
svg .threshold { stroke-width: 2; stroke-dasharray: 3 2; }
svg .status-pass { stroke: #15803d; fill: #15803d; }
svg .status-fail { stroke: #b91c1c; fill: #b91c1c; }
svg .status-inconclusive { stroke: #b45309; fill: #b45309; }
svg .status-pending { stroke: #1d4ed8; fill: #1d4ed8; }
svg .status-none { stroke: #64748b; fill: #64748b; }
svg .series-train { stroke: #1d4ed8; stroke-width: 2; fill: none; }
svg .series-valid { stroke: #c2410c; stroke-width: 2; stroke-dasharray: 6 3; fill: none; }
svg .point-valid { fill: #c2410c; }
svg .node { stroke-width: 1.2; }
svg .node.subject { stroke-width: 3; }
svg .node-label { font-weight: 600; }
svg .node-kind { font-size: 11px; }
svg .edge { stroke: #64748b; stroke-width: 1.2; marker-end: url(#lineage-arrow); }
svg .arrow-head { fill: #64748b; }
svg .edge-label { fill: #334155; font-size: 11px; paint-order: stroke; stroke: #fff;
  stroke-width: 3px; }
.ok { color: #166534; font-weight: 600; }
.failed { color: #991b1b; font-weight: 600; }
@media print {
  body { background: #fff; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  figure, tr { break-inside: avoid; }
  th { background: none; }
}
)css";

// A table cell: escaped text, and an optional class ("num", "mono", "badge status-pass").
struct Cell {
  Cell(std::string text, std::string css_class = "")  // NOLINT: implicit from text by design
      : text(std::move(text)), css_class(std::move(css_class)) {}
  std::string text;
  std::string css_class;
};

std::string Element(std::string_view tag, std::string_view text, std::string_view css_class = "") {
  return "<" + std::string(tag) +
         (css_class.empty() ? "" : " class=\"" + XmlEscapeAttribute(css_class) + "\"") + ">" +
         XmlEscapeText(text) + "</" + std::string(tag) + ">";
}

std::string Table(const std::vector<std::string>& headers,
                  const std::vector<std::vector<Cell>>& rows) {
  std::string out = "<table>\n<thead><tr>";
  for (const std::string& h : headers) out += Element("th", h);
  out += "</tr></thead>\n<tbody>\n";
  for (const std::vector<Cell>& row : rows) {
    out += "<tr>";
    for (const Cell& cell : row) {
      if (cell.css_class.rfind("badge ", 0) == 0) {
        out += "<td>" + Element("span", cell.text, cell.css_class) + "</td>";
      } else {
        out += Element("td", cell.text, cell.css_class);
      }
    }
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

std::string Page(std::string_view title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n" +
         Element("title", title) + "\n<style>" + std::string(kStyle) +
         "</style>\n</head>\n<body>\n<main>\n" + body + "</main>\n</body>\n</html>\n";
}

Cell Badge(const policies::CriterionResult* criterion) {
  if (criterion == nullptr) return {"", ""};
  return {std::string(policies::CriterionStatusName(criterion->status)),
          "badge " + StatusClass(criterion)};
}

Cell VerdictBadge(policies::Verdict verdict) {
  policies::CriterionResult as_criterion;
  as_criterion.status = verdict == policies::Verdict::kPass ? policies::CriterionStatus::kPass
                        : verdict == policies::Verdict::kInconclusive
                            ? policies::CriterionStatus::kInconclusive
                            : policies::CriterionStatus::kFail;
  return Badge(&as_criterion);
}

Cell Num(const std::string& text) { return {text, "num"}; }
Cell Mono(const std::string& text) { return {text, "mono"}; }
Cell Time(const std::string& text) { return {text, "time"}; }

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string IdentitySection(const AdapterIdentity& id) {
  std::vector<std::vector<Cell>> rows = {
      {{"name"}, {id.name + "@" + std::to_string(id.version)}},
      {{"digest"}, Mono(id.digest)},
      {{"base"}, {id.base.name}},
      {{"base digest"}, Mono(id.base.digest)},
      {{"stage"}, {id.stage}},
      {{"channels"}, {Joined(id.channels)}},
      {{"attested"},
       id.unattested ? Cell{"no: registered without a training attestation", "failed"}
                     : Cell{"yes", "ok"}}};
  if (!id.tags.empty()) rows.push_back({{"tags"}, {id.TagsText()}});
  if (id.description) rows.push_back({{"description"}, {*id.description, "text"}});
  return Element("h2", "Identity") + Table({"field", "value"}, rows);
}

std::string VerificationSection(const std::vector<VerificationRow>& rows) {
  std::vector<std::vector<Cell>> cells;
  for (const VerificationRow& r : rows) {
    cells.push_back(
        {{r.check}, r.ok ? Cell{"✓ ok", "ok"} : Cell{"✗ failed", "failed"}, {r.detail}});
  }
  return Element("h2", "Verification") + Table({"check", "result", "detail"}, cells);
}

std::string LineageSection(const LineageGraph& graph) {
  std::vector<std::vector<Cell>> cells;
  for (const LineageNode& n : graph.nodes) {
    cells.push_back({{n.label}, {std::string(LineageNodeKindName(n.kind))}, Mono(n.digest)});
  }
  return Element("h2", "Lineage") + "<figure>\n" + RenderLineageSvg(graph) +
         Element("figcaption", "Inputs on the left, the adapter, evidence on the right.") +
         "\n</figure>\n" + Table({"node", "kind", "digest"}, cells);
}

std::string TrainingSection(const TrainingSummary& training) {
  std::string out = Element("h2", "Training");
  if (!training.loss.empty()) out += "<figure>\n" + RenderLossChart(training.loss) + "</figure>\n";
  return out + Element("h3", "Configuration") +
         Element("pre", training.config.dump(2, ' ', false, Json::error_handler_t::replace)) + "\n";
}

std::string EvaluationSection(const EvaluationRecord& evaluation,
                              const std::vector<DecisionRecord>& decisions) {
  std::string suites;
  for (const SuiteResults& s : evaluation.suites) {
    suites += (suites.empty() ? "" : ", ") + s.suite.name + " (" + s.suite.digest + ")";
  }
  const std::vector<EvaluationRow> rows = EvaluationRows(evaluation, decisions);
  std::vector<std::vector<Cell>> cells;
  for (const EvaluationRow& row : rows) {
    const stats::MetricComparison& m = *row.comparison;
    const std::optional<double> threshold = row.delta_threshold();
    cells.push_back({{row.suite->suite.name},
                     {m.metric},
                     {m.slice},
                     Num(std::to_string(m.n)),
                     Num(FormatValue(m.base)),
                     Num(FormatValue(m.adapter)),
                     Num(FormatSigned(m.delta)),
                     Num(FormatIntervalAt(row.interval(), row.confidence())),
                     Num(threshold ? FormatSigned(*threshold) : ""),
                     Num(m.mcnemar ? FormatValue(m.mcnemar->p_value) : ""),
                     Num(FormatValue(m.minimum_detectable_effect)),
                     Badge(row.criterion)});
  }
  return Element("h3", "Evaluation " + evaluation.id) +
         Element("p", "At " + evaluation.time + " on " + suites + ".", "meta") + "\n<figure>\n" +
         RenderForestPlot(rows, "Deltas and intervals of evaluation " + evaluation.id) +
         Element("figcaption",
                 "Dot: delta (adapter − base); bar: interval; dashed tick: the criterion's "
                 "threshold on the delta axis; colour: the criterion's status.") +
         "\n</figure>\n" +
         Table({"suite", "metric", "slice", "n", "base", "adapter", "delta", "interval",
                "threshold", "McNemar p", "MDE", "status"},
               cells);
}

std::string CriteriaTable(const policies::Decision& d) {
  std::vector<std::vector<Cell>> cells;
  for (const policies::CriterionResult& c : d.criteria) {
    cells.push_back({{c.name},
                     Num(FormatOptional(c.base)),
                     Num(FormatOptional(c.adapter)),
                     Num(c.delta ? FormatSigned(*c.delta) : ""),
                     Num(FormatCriterionInterval(c)),
                     Num(FormatOptional(c.threshold)),
                     {c.test},
                     Num(FormatOptional(c.p_value)),
                     Badge(&c),
                     {c.reason, "reason"}});
  }
  return Table({"criterion", "base", "adapter", "delta", "interval", "threshold", "test", "p-value",
                "status", "reason"},
               cells);
}

std::string DecisionsSection(const std::vector<DecisionRecord>& decisions) {
  std::string out = Element("h2", "Decisions");
  for (const DecisionRecord& r : decisions) {
    const policies::Decision& d = r.decision;
    const Cell verdict = VerdictBadge(d.verdict);
    out += "<h3>" + Element("span", verdict.text, verdict.css_class) + " " +
           XmlEscapeText("Decision " + r.id) + "</h3>\n" +
           Element("p",
                   "Policy " + d.policy + " (" + d.policy_digest + "), " +
                       std::string(policies::DecisionModeName(d.mode)) + " at " +
                       FormatPercent(d.confidence) + ", inconclusive: " + d.inconclusive +
                       ", exit code " + std::to_string(d.exit_code) + ". Evaluation " +
                       r.evaluation_id + "; signed by " + r.signed_by + " (key " + r.key_id +
                       ") at " + r.time + ".",
                   "meta") +
           "\n" + CriteriaTable(d);
  }
  return out;
}

std::string ApprovalsSection(const std::vector<ApprovalRecord>& approvals) {
  std::vector<std::vector<Cell>> cells;
  for (const ApprovalRecord& a : approvals) {
    cells.push_back({{a.approver}, Mono(a.key_id), Time(a.time), {a.comment}});
  }
  return Element("h2", "Approvals") + Table({"approver", "key id", "time", "comment"}, cells);
}

std::string LogSection(const std::vector<LogEntry>& log) {
  std::vector<std::vector<Cell>> cells;
  for (const LogEntry& e : log) {
    cells.push_back(
        {Num(std::to_string(e.seq)),
         Time(e.time),
         {e.actor},
         {e.action},
         Mono(Joined(e.digests)),
         e.inclusion_verified ? Cell{"✓ verified", "ok"} : Cell{"✗ not verified", "failed"}});
  }
  return Element("h2", "Log entries") +
         Table({"seq", "time", "actor", "action", "digests", "inclusion proof"}, cells);
}

}  // namespace

std::string RenderAdapterHtml(const AdapterReportData& report) {
  const AdapterIdentity& id = report.identity;
  const std::string title = "Adapter report: " + id.name + "@" + std::to_string(id.version);
  std::string body = Element("h1", title) + "\n" +
                     Element("p", "Stage " + id.stage + " · " + id.digest, "meta") + "\n" +
                     IdentitySection(id) + VerificationSection(report.verification) +
                     LineageSection(report.lineage);
  if (report.training) body += TrainingSection(*report.training);
  body += Element("h2", "Evaluations");
  for (const EvaluationRecord& e : report.evaluations)
    body += EvaluationSection(e, report.decisions);
  body += DecisionsSection(report.decisions) + ApprovalsSection(report.approvals) +
          LogSection(report.log);
  return Page(title, body);
}

std::string RenderAuditHtml(const AuditReportData& audit) {
  const std::string title = "Audit report: " + audit.since + " to " + audit.until;
  const CheckpointRef& cp = audit.checkpoint;
  std::string body =
      Element("h1", title) + "\n" + Element("h2", "Checkpoint") +
      Table({"origin", "size", "root", "verified"},
            {{{cp.origin},
              Num(std::to_string(cp.size)),
              Mono(cp.root),
              cp.verified ? Cell{"✓ verified", "ok"} : Cell{"✗ not verified", "failed"}}});
  for (const AuditSection& section : AuditSections(audit)) {
    body += "<h2 id=\"" + std::string(section.key) + "\">" +
            XmlEscapeText(std::string(section.title) + " (" +
                          std::to_string(section.events->size()) + ")") +
            "</h2>\n";
    if (section.events->empty()) {
      body += Element("p", "None.", "meta") + "\n";
      continue;
    }
    std::vector<std::vector<Cell>> cells;
    for (const AuditEvent& e : *section.events) {
      cells.push_back({Num(std::to_string(e.seq)),
                       Time(e.time),
                       {e.actor},
                       {e.subject},
                       Mono(e.digest),
                       {e.detail}});
    }
    body += Table({"seq", "time", "actor", "subject", "digest", "detail"}, cells);
  }
  return Page(title, body);
}

}  // namespace graft::reports
