#include "report_builder/adapter_report_builder.h"

#include <charconv>
#include <filesystem>
#include <set>

#include "core/dsse.h"
#include "core/file_util.h"
#include "core/manifest.h"
#include "core/oms_signature.h"
#include "core/sha256.h"
#include "policies/lifecycle.h"
#include "registry/adapter_spec.h"
#include "registry/vocabulary.h"
#include "report_builder/stored_results.h"

namespace graft::report_builder {
namespace fs = std::filesystem;
using registry::AttestationRecord;
using registry::ObjectRecord;

namespace {

// Every string value in `json`, recursively.
void CollectStrings(const Json& json, std::set<std::string>& out) {
  if (json.is_string()) {
    const std::string& s = json.get_ref<const std::string&>();
    out.insert(s.starts_with("sha256:") ? s.substr(7) : s);
  } else if (json.is_structured()) {
    for (const Json& item : json) CollectStrings(item, out);
  }
}

const Json& Member(const Json& json, const char* key) {
  static const Json kNull;
  return json.is_object() && json.contains(key) ? json[key] : kNull;
}

std::string StringOf(const Json& json) { return json.is_string() ? json.get<std::string>() : ""; }

std::optional<double> NumberOf(const Json& json) {
  return json.is_number() ? std::optional<double>(json.get<double>()) : std::nullopt;
}

}  // namespace

Result<reports::AdapterReportData> AdapterReportBuilder::Build(const std::string& ref) {
  GRAFT_ASSIGN_OR_RETURN(adapter_, registry_.Resolve(registry::kAdapterKind, ref));
  GRAFT_ASSIGN_OR_RETURN(RegistryNames names, RegistryNames::Load(registry_));
  names_.emplace(std::move(names));
  log_ = shared_log_;
  if (log_ == nullptr) {
    GRAFT_ASSIGN_OR_RETURN(VerifiedLog log, VerifiedLog::Load(registry_));
    log_ = std::make_shared<const VerifiedLog>(std::move(log));
  }

  reports::AdapterReportData report;
  GRAFT_RETURN_IF_ERROR(AddIdentity(report));
  GRAFT_RETURN_IF_ERROR(VerifyFiles(adapter_, "adapter files", report));
  GRAFT_RETURN_IF_ERROR(VerifySignatureFiles(report));
  GRAFT_ASSIGN_OR_RETURN(
      std::vector<Checked> provenance,
      CheckAttestations(registry::kProvenanceAttestation, registry::kTrainerRole, report));
  GRAFT_RETURN_IF_ERROR(AddInputs(report));
  if (!provenance.empty()) {
    AddNode(report.lineage, "run", reports::LineageNodeKind::kTrainingRun,
            "training run " + StringOf(Member(Member(adapter_.Info(), "provenance"), "run_id")),
            provenance.back().record.digest);
    report.lineage.edges.push_back({"adapter", "run", "trained by"});
    AddTraining(provenance.back(), report);
  }
  GRAFT_ASSIGN_OR_RETURN(
      std::vector<Checked> evaluations,
      CheckAttestations(registry::kEvaluationAttestation, registry::kEvaluatorRole, report));
  GRAFT_RETURN_IF_ERROR(AddEvaluations(evaluations, report));
  GRAFT_ASSIGN_OR_RETURN(
      std::vector<Checked> decisions,
      CheckAttestations(registry::kDecisionAttestation, registry::kEvaluatorRole, report));
  GRAFT_RETURN_IF_ERROR(AddDecisions(decisions, report));
  GRAFT_ASSIGN_OR_RETURN(
      std::vector<Checked> approvals,
      CheckAttestations(registry::kApprovalAttestation, registry::kApproverRole, report));
  AddApprovals(approvals, report);

  GRAFT_ASSIGN_OR_RETURN(std::vector<AttestationRecord> all,
                         registry_.Attestations(adapter_.digest));
  std::vector<std::string> attestation_digests;
  for (const AttestationRecord& a : all) attestation_digests.push_back(a.digest);
  GRAFT_RETURN_IF_ERROR(AddLogEntries(attestation_digests, report));
  return report;
}

Status AdapterReportBuilder::AddIdentity(reports::AdapterReportData& report) {
  reports::AdapterIdentity& identity = report.identity;
  const std::string label = adapter_.labels.empty() ? "" : adapter_.DisplayName();
  const size_t at = label.rfind('@');
  identity.name = label.substr(0, at);
  if (at != std::string::npos) {
    std::from_chars(label.data() + at + 1, label.data() + label.size(), identity.version);
  }
  identity.digest = Sha256Prefixed(adapter_.digest);
  const std::string base = StringOf(Member(adapter_.Info(), "base"));
  identity.base = {names_->Object(base), Sha256Prefixed(base)};
  identity.stage = adapter_.stage.value_or("candidate");
  policies::Lifecycle lifecycle(registry_);
  GRAFT_ASSIGN_OR_RETURN(Json described, lifecycle.Describe(adapter_));
  for (const Json& channel : described["channels"]) {
    identity.channels.push_back(channel.get<std::string>());
  }
  identity.unattested = !adapter_.attested;
  GRAFT_ASSIGN_OR_RETURN(registry::Annotations annotations,
                         registry_.AdapterAnnotations(adapter_.digest));
  identity.tags = std::move(annotations.tags);
  identity.description = std::move(annotations.description);
  AddNode(report.lineage, "adapter", reports::LineageNodeKind::kAdapter, label, adapter_.digest);
  return Status::Ok();
}

Status AdapterReportBuilder::VerifyFiles(const ObjectRecord& object, std::string_view what,
                                         reports::AdapterReportData& report) {
  reports::VerificationRow row{std::string(what), false, ""};
  GRAFT_ASSIGN_OR_RETURN(registry::StoredFilesVerdict verdict, registry_.VerifyStoredFiles(object));
  row.ok = verdict.ok();
  row.detail = row.ok ? std::to_string(verdict.files) + " files re-hashed; root digest is " +
                            Sha256Prefixed(object.digest)
                      : verdict.problem;
  report.verification.push_back(std::move(row));
  return Status::Ok();
}

Status AdapterReportBuilder::VerifySignatureFiles(reports::AdapterReportData& report) {
  reports::VerificationRow row{std::string(kSignatureFile), false, ""};
  if (!adapter_.attested) {
    row.detail = "unattested: registered without model.sig and provenance";
    report.verification.push_back(std::move(row));
    return Status::Ok();
  }
  TempDir temp("graft-report");
  const fs::path dir = temp.path() / "adapter";
  Status exported = registry_.WriteVerifiedFiles(adapter_, dir);  // a revoked one too
  GRAFT_ASSIGN_OR_RETURN(std::vector<PublicKey> trainers, KeysWithRole(registry::kTrainerRole));
  Result<OmsVerification> oms =
      exported.ok() ? OmsVerify(dir, dir / kSignatureFile, trainers, {std::string(kProvenanceFile)})
                    : Result<OmsVerification>(exported);
  if (!oms.ok()) {
    row.detail = oms.status().message();
  } else if (oms->manifest.RootDigestHex() != adapter_.digest) {
    row.detail = "it signs root digest sha256:" + oms->manifest.RootDigestHex();
  } else {
    const std::string revoked = names_->RevokedNote({oms->key_id});
    row.ok = revoked.empty();
    row.detail = "OMS v1.0, signed by " + names_->Keys({oms->key_id}) +
                 (revoked.empty() ? "" : "; " + revoked);
  }
  report.verification.push_back(std::move(row));
  return Status::Ok();
}

Result<std::vector<AdapterReportBuilder::Checked>> AdapterReportBuilder::CheckAttestations(
    std::string_view kind, std::string_view role, reports::AdapterReportData& report) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<PublicKey> role_keys, KeysWithRole(role));
  GRAFT_ASSIGN_OR_RETURN(std::vector<AttestationRecord> records,
                         registry_.Attestations(adapter_.digest, std::string(kind)));
  std::vector<Checked> out;
  for (const AttestationRecord& a : records) {
    Checked checked{a, std::nullopt, {}, TimeOf(a.seq)};
    reports::VerificationRow row{std::string(kind) + " " + ShortSha256(a.digest), false, ""};
    Result<DsseEnvelope> envelope = registry_.LoadAttestation(a.digest);
    if (!envelope.ok()) {
      row.detail = envelope.status().message();
      report.verification.push_back(std::move(row));
      continue;
    }
    Result<InTotoStatement> statement =
        InTotoStatement::Parse(envelope->payload, std::string(kind) + " sha256:" + a.digest);
    if (statement.ok()) checked.statement = *std::move(statement);
    Result<std::vector<std::string>> signers = DsseVerify(*envelope, role_keys);
    const bool about_adapter = checked.statement && checked.statement->subjects.size() == 1 &&
                               checked.statement->subjects[0].digest["sha256"] == adapter_.digest;
    if (!signers.ok()) {
      row.detail = signers.status().message();
    } else if (!about_adapter) {
      row.detail =
          statement.ok() ? "not a statement about this adapter" : statement.status().message();
    } else {
      checked.key_ids = *signers;
      const std::string revoked = names_->RevokedNote(checked.key_ids);
      row.ok = revoked.empty();
      row.detail = "DSSE signature by " + names_->Keys(checked.key_ids) + " (" + std::string(role) +
                   ")" + (revoked.empty() ? "" : "; " + revoked);
    }
    report.verification.push_back(std::move(row));
    out.push_back(std::move(checked));
  }
  return out;
}

Status AdapterReportBuilder::VerifyBlob(const std::string& digest, const std::string& what,
                                        reports::AdapterReportData& report) {
  Result<std::string> bytes = registry_.ReadBlob(digest);
  report.verification.push_back({what, bytes.ok(),
                                 bytes.ok()
                                     ? std::to_string(bytes->size()) +
                                           " bytes re-hashed; SHA-256 is " + Sha256Prefixed(digest)
                                     : bytes.status().message()});
  return Status::Ok();
}

Status AdapterReportBuilder::AddInputs(reports::AdapterReportData& report) {
  const Json info = adapter_.Info();
  const std::string base = StringOf(Member(info, "base"));
  AddNode(report.lineage, "base", reports::LineageNodeKind::kBase, names_->Object(base), base);
  report.lineage.edges.push_back({"adapter", "base", "base"});
  GRAFT_ASSIGN_OR_RETURN(ObjectRecord base_record, registry_.Get(base));
  GRAFT_RETURN_IF_ERROR(VerifyFiles(base_record, "base files", report));

  int index = 0;
  for (const Json& dependency : Member(Member(info, "provenance"), "dependencies")) {
    const std::string role = dependency.value("role", "");
    const std::string digest = dependency.value("digest", "");
    reports::LineageNodeKind kind;
    std::string edge = role;
    if (role == "dataset") {
      kind = reports::LineageNodeKind::kDataset;
    } else if (role == "parent_adapter") {
      kind = reports::LineageNodeKind::kParentAdapter;
      edge = "parent";
    } else if (role == "policy") {
      kind = reports::LineageNodeKind::kPolicy;
    } else {
      continue;  // the base (above) and the config (the training section shows it)
    }
    Result<ObjectRecord> registered = registry_.Get(digest);
    if (!registered.ok() && registered.status().kind() != ErrorKind::kNotFound) {
      return registered.status();
    }
    const std::string id = role + "-" + std::to_string(index++);
    const std::string label = registered.ok() ? names_->Object(digest)
                                              : dependency.value("name", role) + " (unregistered)";
    AddNode(report.lineage, id, kind, label, digest);
    report.lineage.edges.push_back({"adapter", id, edge});
    if (registered.ok() && kind != reports::LineageNodeKind::kParentAdapter) {
      GRAFT_RETURN_IF_ERROR(VerifyBlob(digest, role + " " + label, report));
    }
  }
  return Status::Ok();
}

void AdapterReportBuilder::AddTraining(const Checked& provenance,
                                       reports::AdapterReportData& report) {
  if (!provenance.statement) return;
  const Json& predicate = provenance.statement->predicate;
  reports::TrainingSummary training;
  const Json& config =
      Member(Member(Member(predicate, "buildDefinition"), "externalParameters"), "config");
  if (config.is_object()) training.config = config;
  // Byproducts are {name, annotations: {value}}: a "loss_curve" of {step, train_loss,
  // valid_loss} points when the trainer recorded one, else the final losses at the last step.
  std::map<std::string, Json> byproducts;
  for (const Json& b : Member(Member(predicate, "runDetails"), "byproducts")) {
    if (b.is_object() && b.contains("name") && b["name"].is_string()) {
      byproducts[b["name"].get<std::string>()] = Member(Member(b, "annotations"), "value");
    }
  }
  if (byproducts["loss_curve"].is_array()) {
    for (const Json& point : byproducts["loss_curve"]) {
      std::optional<double> step = NumberOf(Member(point, "step"));
      std::optional<double> train = NumberOf(Member(point, "train_loss"));
      if (!step || !train) continue;
      training.loss.push_back(
          {static_cast<int64_t>(*step), *train, NumberOf(Member(point, "valid_loss"))});
    }
  } else if (std::optional<double> train = NumberOf(byproducts["train_loss"])) {
    training.loss.push_back({static_cast<int64_t>(NumberOf(byproducts["steps"]).value_or(0)),
                             *train, NumberOf(byproducts["valid_loss"])});
  }
  report.training = std::move(training);
}

Status AdapterReportBuilder::AddEvaluations(const std::vector<Checked>& evaluations,
                                            reports::AdapterReportData& report) {
  for (const Checked& checked : evaluations) {
    if (!checked.statement) continue;
    const std::string source = "evaluation sha256:" + checked.record.digest;
    reports::EvaluationRecord record{Sha256Prefixed(checked.record.digest), checked.time, {}};
    const std::string node = "evaluation-" + std::to_string(report.evaluations.size());
    AddNode(report.lineage, node, reports::LineageNodeKind::kEvaluation,
            "evaluation " + checked.time, checked.record.digest);
    report.lineage.edges.push_back({node, "adapter", "evaluates"});
    for (const Json& suite : Member(Member(checked.statement->predicate, "graft"), "suites")) {
      const std::string digest = suite.value("digest", "");
      reports::SuiteResults results{{suite.value("name", ""), Sha256Prefixed(digest)}, {}};
      for (const Json& task : Member(suite, "tasks")) {
        for (const Json& metric : Member(task, "metrics")) {
          GRAFT_ASSIGN_OR_RETURN(stats::MetricComparison comparison,
                                 ComparisonFromJson(metric, source));
          results.metrics.push_back(std::move(comparison));
        }
      }
      const std::string suite_node = "suite-" + digest;
      AddNode(report.lineage, suite_node, reports::LineageNodeKind::kSuite, results.suite.name,
              digest);
      report.lineage.edges.push_back({node, suite_node, "suite"});
      record.suites.push_back(std::move(results));
    }
    report.evaluations.push_back(std::move(record));
  }
  return Status::Ok();
}

Status AdapterReportBuilder::AddDecisions(const std::vector<Checked>& decisions,
                                          reports::AdapterReportData& report) {
  for (const Checked& checked : decisions) {
    if (!checked.statement) continue;
    const Json& predicate = checked.statement->predicate;
    GRAFT_ASSIGN_OR_RETURN(policies::Decision decision,
                           DecisionFromJson(Member(predicate, "decision"),
                                            "decision sha256:" + checked.record.digest));
    reports::DecisionRecord record;
    record.id = Sha256Prefixed(checked.record.digest);
    record.decision = std::move(decision);
    record.key_id = checked.key_ids.empty() ? "" : checked.key_ids.front();
    record.signed_by = names_->KeyName(record.key_id);
    record.time = checked.time;
    const std::string node = "decision-" + std::to_string(report.decisions.size());
    AddNode(report.lineage, node, reports::LineageNodeKind::kDecision,
            std::string(policies::DecisionModeName(record.decision.mode)) +
                " decision: " + std::string(policies::VerdictName(record.decision.verdict)),
            checked.record.digest);
    for (const Json& evaluation : Member(predicate, "evaluations")) {
      if (!evaluation.is_string()) continue;
      if (record.evaluation_id.empty()) record.evaluation_id = evaluation.get<std::string>();
      for (size_t i = 0; i < report.evaluations.size(); ++i) {
        if (report.evaluations[i].id == evaluation.get<std::string>()) {
          report.lineage.edges.push_back({node, "evaluation-" + std::to_string(i), "judges"});
        }
      }
    }
    if (record.evaluation_id.empty()) report.lineage.edges.push_back({node, "adapter", "decides"});
    report.decisions.push_back(std::move(record));
  }
  return Status::Ok();
}

void AdapterReportBuilder::AddApprovals(const std::vector<Checked>& approvals,
                                        reports::AdapterReportData& report) {
  for (const Checked& checked : approvals) {
    if (!checked.statement) continue;
    reports::ApprovalRecord record;
    record.key_id = checked.key_ids.empty() ? "" : checked.key_ids.front();
    record.approver = names_->KeyName(record.key_id);
    record.time = checked.time;
    record.comment = StringOf(Member(checked.statement->predicate, "comment"));
    const std::string node = "approval-" + std::to_string(report.approvals.size());
    AddNode(report.lineage, node, reports::LineageNodeKind::kApproval,
            "approval by " + record.approver, checked.record.digest);
    report.lineage.edges.push_back({node, "adapter", "approves"});
    report.approvals.push_back(std::move(record));
  }
}

Status AdapterReportBuilder::AddLogEntries(const std::vector<std::string>& attestation_digests,
                                           reports::AdapterReportData& report) {
  std::set<std::string> concerned(attestation_digests.begin(), attestation_digests.end());
  concerned.insert(adapter_.digest);
  size_t included = 0;
  for (uint64_t seq : log_->EventsNaming(concerned)) {
    const registry::Event& event = log_->events()[seq];
    std::set<std::string> named;
    CollectStrings(Member(event.json, "details"), named);
    reports::LogEntry entry;
    for (const std::string& s : named) {
      if (concerned.contains(s)) entry.digests.push_back(Sha256Prefixed(s));
    }
    if (entry.digests.empty()) continue;
    entry.seq = static_cast<int64_t>(event.seq);
    entry.time = TimeOf(event.seq);
    entry.actor = names_->Actor(event.json.value("actor", ""));
    entry.action = event.json.value("action", "");
    GRAFT_ASSIGN_OR_RETURN(entry.inclusion_verified, log_->ProvesInclusion(event.seq, registry_));
    included += entry.inclusion_verified ? 1 : 0;
    report.log.push_back(std::move(entry));
  }
  const reports::CheckpointRef& checkpoint = log_->checkpoint();
  report.verification.push_back({"log checkpoint", checkpoint.verified,
                                 checkpoint.verified
                                     ? "signed by the registry key; " + checkpoint.origin + ", " +
                                           std::to_string(checkpoint.size) + " events, root " +
                                           checkpoint.root + " recomputed from the events"
                                     : log_->problem()});
  report.verification.push_back({"log inclusion", included == report.log.size(),
                                 std::to_string(included) + " of " +
                                     std::to_string(report.log.size()) +
                                     " log entries proven included in the checkpoint of size " +
                                     std::to_string(checkpoint.size)});
  return Status::Ok();
}

Result<std::vector<PublicKey>> AdapterReportBuilder::KeysWithRole(std::string_view role) const {
  std::vector<PublicKey> out;
  for (const registry::KeyRecord& k : names_->keys()) {
    if (k.role != role) continue;
    GRAFT_ASSIGN_OR_RETURN(PublicKey key, PublicKey::FromPem(k.pem, "key " + k.key_id));
    out.push_back(std::move(key));
  }
  return out;
}

std::string AdapterReportBuilder::TimeOf(uint64_t seq) const {
  return seq < log_->events().size() ? log_->events()[seq].json.value("time", "") : "";
}

void AdapterReportBuilder::AddNode(reports::LineageGraph& graph, std::string id,
                                   reports::LineageNodeKind kind, std::string label,
                                   const std::string& digest) {
  for (const reports::LineageNode& node : graph.nodes) {
    if (node.id == id) return;
  }
  graph.nodes.push_back({std::move(id), kind, std::move(label), Sha256Prefixed(digest)});
}

}  // namespace graft::report_builder
