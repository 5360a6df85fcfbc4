#include "reports/json_report.h"

#include "evaluator/stats/json.h"

namespace graft::reports {
namespace {

Json RefJson(const ObjectRef& ref) { return {{"name", ref.name}, {"digest", ref.digest}}; }

Json IdentityJson(const AdapterIdentity& id) {
  Json out = {{"name", id.name},
              {"version", id.version},
              {"digest", id.digest},
              {"base", RefJson(id.base)},
              {"stage", id.stage},
              {"channels", id.channels},
              {"unattested", id.unattested},
              {"tags", Json::object()}};
  for (const auto& [key, value] : id.tags) out["tags"][key] = value;
  if (id.description) out["description"] = *id.description;
  return out;
}

Json LineageJson(const LineageGraph& graph) {
  Json nodes = Json::array();
  for (const LineageNode& n : graph.nodes) {
    nodes.push_back({{"id", n.id},
                     {"kind", LineageNodeKindName(n.kind)},
                     {"label", n.label},
                     {"digest", n.digest}});
  }
  Json edges = Json::array();
  for (const LineageEdge& e : graph.edges) {
    edges.push_back({{"from", e.from}, {"to", e.to}, {"label", e.label}});
  }
  return {{"nodes", std::move(nodes)}, {"edges", std::move(edges)}};
}

Json TrainingJson(const TrainingSummary& training) {
  Json loss = Json::array();
  for (const LossPoint& p : training.loss) {
    Json point = {{"step", p.step}, {"train_loss", p.train_loss}};
    if (p.valid_loss) point["valid_loss"] = *p.valid_loss;
    loss.push_back(std::move(point));
  }
  return {{"config", training.config}, {"loss", std::move(loss)}};
}

Json EvaluationJson(const EvaluationRecord& evaluation) {
  Json suites = Json::array();
  for (const SuiteResults& suite : evaluation.suites) {
    Json metrics = Json::array();
    for (const stats::MetricComparison& m : suite.metrics)
      metrics.push_back(stats::ComparisonToJson(m));
    suites.push_back({{"suite", RefJson(suite.suite)}, {"metrics", std::move(metrics)}});
  }
  return {{"id", evaluation.id}, {"time", evaluation.time}, {"suites", std::move(suites)}};
}

Json DecisionJson(const DecisionRecord& d) {
  return {{"id", d.id},
          {"evaluation_id", d.evaluation_id},
          {"decision", d.decision.ToJson()},
          {"signed_by", d.signed_by},
          {"key_id", d.key_id},
          {"time", d.time}};
}

Json ApprovalJson(const ApprovalRecord& a) {
  return {{"approver", a.approver}, {"key_id", a.key_id}, {"time", a.time}, {"comment", a.comment}};
}

Json LogEntryJson(const LogEntry& e) {
  return {{"seq", e.seq},         {"time", e.time},
          {"actor", e.actor},     {"action", e.action},
          {"digests", e.digests}, {"inclusion_verified", e.inclusion_verified}};
}

Json AuditEventJson(const AuditEvent& e) {
  return {{"seq", e.seq},         {"time", e.time},     {"actor", e.actor},
          {"subject", e.subject}, {"digest", e.digest}, {"detail", e.detail}};
}

template <typename T, typename F>
Json ListJson(const std::vector<T>& items, F to_json) {
  Json out = Json::array();
  for (const T& item : items) out.push_back(to_json(item));
  return out;
}

}  // namespace

Json GateReportJson(const GateReportData& gate) {
  return {{"schema", kGateDecisionSchema},
          {"adapter", RefJson(gate.adapter)},
          {"base", RefJson(gate.base)},
          {"decision", gate.decision.ToJson()}};
}

Json AdapterReportJson(const AdapterReportData& report) {
  return {{"schema", kAdapterReportSchema},
          {"identity", IdentityJson(report.identity)},
          {"verification",
           ListJson(report.verification,
                    [](const VerificationRow& r) {
                      return Json{{"check", r.check}, {"ok", r.ok}, {"detail", r.detail}};
                    })},
          {"lineage", LineageJson(report.lineage)},
          {"training", report.training ? TrainingJson(*report.training) : Json(nullptr)},
          {"evaluations", ListJson(report.evaluations, EvaluationJson)},
          {"decisions", ListJson(report.decisions, DecisionJson)},
          {"approvals", ListJson(report.approvals, ApprovalJson)},
          {"log", ListJson(report.log, LogEntryJson)}};
}

Json AuditReportJson(const AuditReportData& audit) {
  const CheckpointRef& cp = audit.checkpoint;
  Json out = {
      {"schema", kAuditReportSchema},
      {"since", audit.since},
      {"until", audit.until},
      {"checkpoint",
       {{"origin", cp.origin}, {"size", cp.size}, {"root", cp.root}, {"verified", cp.verified}}}};
  for (const AuditSection& section : AuditSections(audit)) {
    out[std::string(section.key)] = ListJson(*section.events, AuditEventJson);
  }
  return out;
}

std::string RenderJson(const Json& report) {
  return report.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace graft::reports
