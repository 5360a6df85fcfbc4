// Plain structs for what a report shows; the CLI fills them from the registry, renderers read them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "evaluator/stats/types.h"
#include "policies/decision.h"

namespace graft::reports {

// A named object and its digest ("support-bot@3", "sha256:...").
struct ObjectRef {
  std::string name;
  std::string digest;
};

// What `graft gate` renders: the decision and what it was about.
struct GateReportData {
  ObjectRef adapter;
  ObjectRef base;
  policies::Decision decision;  // holds the policy name and digest
};

struct AdapterIdentity {
  std::string name;     // "support-bot"
  int64_t version = 0;  // the N of name@N
  std::string digest;   // root digest of the adapter directory
  ObjectRef base;
  std::string stage;                  // candidate, staging, production, retired, rejected, revoked
  std::vector<std::string> channels;  // channels pointing at this version
  bool unattested = false;            // registered without a signed training attestation
  std::map<std::string, std::string> tags;  // `graft adapter tag`: key -> value (metadata)
  std::optional<std::string> description;   // `graft adapter describe`

  // The tags as "key=value, key=value" (by key).
  std::string TagsText() const;
};

// One verification performed for the report: what was checked and how it came out.
struct VerificationRow {
  std::string check;  // "model.sig", "provenance", "blob digests", "log inclusion"
  bool ok = false;
  std::string detail;
};

enum class LineageNodeKind {
  kBase,
  kDataset,
  kParentAdapter,
  kTrainingRun,
  kPolicy,
  kAdapter,  // the adapter the report is about
  kSuite,
  kEvaluation,
  kDecision,
  kApproval,
};

std::string_view LineageNodeKindName(LineageNodeKind kind);
// Where a kind of node is drawn, left to right: 0 inputs (base, datasets, parent adapter, training
// run, policy), 1 the adapter, 2 evaluations, 3 suites and decisions, 4 approvals. Edges then
// join neighbouring columns and do not run through nodes.
int LineageColumn(LineageNodeKind kind);

struct LineageNode {
  std::string id;  // unique within the graph; edges refer to it
  LineageNodeKind kind = LineageNodeKind::kDataset;
  std::string label;
  std::string digest;
};

struct LineageEdge {
  std::string from;  // node ids
  std::string to;
  std::string label;  // "base", "dataset", "evaluates", ...
};

struct LineageGraph {
  std::vector<LineageNode> nodes;
  std::vector<LineageEdge> edges;
};

struct LossPoint {
  int64_t step = 0;
  double train_loss = 0;
  std::optional<double> valid_loss;
};

struct TrainingSummary {
  Json config = Json::object();  // the training config as registered
  std::vector<LossPoint> loss;   // by step, ascending
};

// The comparisons of one suite in one evaluation.
struct SuiteResults {
  ObjectRef suite;
  std::vector<stats::MetricComparison> metrics;  // each with its per-slice sub-results
};

struct EvaluationRecord {
  std::string id;    // digest of the evaluation attestation
  std::string time;  // RFC 3339, log time
  std::vector<SuiteResults> suites;
};

// A signed decision; `evaluation_id` links it to the evaluation it judged.
struct DecisionRecord {
  std::string id;
  std::string evaluation_id;
  policies::Decision decision;
  std::string signed_by;
  std::string key_id;
  std::string time;
};

struct ApprovalRecord {
  std::string approver;
  std::string key_id;
  std::string time;
  std::string comment;
};

struct LogEntry {
  int64_t seq = 0;
  std::string time;
  std::string actor;
  std::string action;
  std::vector<std::string> digests;
  bool inclusion_verified = false;  // an inclusion proof against the checkpoint verified
};

struct AdapterReportData {
  AdapterIdentity identity;
  std::vector<VerificationRow> verification;
  LineageGraph lineage;
  std::optional<TrainingSummary> training;
  std::vector<EvaluationRecord> evaluations;
  std::vector<DecisionRecord> decisions;
  std::vector<ApprovalRecord> approvals;
  std::vector<LogEntry> log;
};

// The signed checkpoint an audit was verified against.
struct CheckpointRef {
  std::string origin;
  int64_t size = 0;
  std::string root;  // base64 or hex, as the checkpoint states it
  bool verified = false;
};

// One log event an audit lists.
struct AuditEvent {
  int64_t seq = 0;
  std::string time;
  std::string actor;
  std::string subject;  // "support-bot@3", a key id, a dataset digest
  std::string digest;
  std::string detail;
};

struct AuditReportData {
  std::string since;  // RFC 3339
  std::string until;
  CheckpointRef checkpoint;
  std::vector<AuditEvent> promotions;
  std::vector<AuditEvent> rollbacks;
  std::vector<AuditEvent> retirements;
  std::vector<AuditEvent> revocations;
  std::vector<AuditEvent> failed_gates;
  std::vector<AuditEvent> post_hoc_policy_attempts;
};

// An audit report's event lists with their titles, in display order.
struct AuditSection {
  std::string_view key;    // "promotions": JSON key and HTML id
  std::string_view title;  // "Promotions"
  const std::vector<AuditEvent>* events;
};
std::vector<AuditSection> AuditSections(const AuditReportData& audit);

}  // namespace graft::reports
