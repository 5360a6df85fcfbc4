#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/unit/reports/report_fixtures.h"

namespace graft::testing {

const std::string kHostile =
    "<script>alert(\"x\")</script> & 'q' ]]> a|b\nc\r\n\x01\x1b\x7f\xc2\x85\xff end";

namespace {

std::string Digest(char c) { return "sha256:" + std::string(64, c); }

policies::CriterionResult Stat(policies::CriterionKind kind, std::string suite, std::string metric,
                               std::string slice, bool higher_is_better, int64_t n, double base,
                               double adapter, double confidence, stats::Interval interval,
                               double threshold, double p, policies::CriterionStatus status,
                               std::string reason) {
  policies::CriterionResult c;
  c.kind = kind;
  c.name = std::string(kind == policies::CriterionKind::kKpi ? "kpi " : "regression ") + suite +
           "/" + metric + (slice.empty() ? "" : "[" + slice + "]");
  c.suite = std::move(suite);
  c.metric = std::move(metric);
  c.slice = std::move(slice);
  c.higher_is_better = higher_is_better;
  c.n = n;
  c.base = base;
  c.adapter = adapter;
  c.delta = adapter - base;
  c.confidence = confidence;
  c.interval = interval;
  c.improvement_interval =
      higher_is_better ? interval : stats::Interval{-interval.high, -interval.low};
  c.threshold = threshold;
  c.p_value = p;
  c.test =
      c.metric == "acc" ? (threshold == 0 ? "exact McNemar" : "Tango score") : "delta-method t";
  c.minimum_detectable_effect = 0.031;
  c.status = status;
  c.reason = std::move(reason);
  return c;
}

policies::CriterionResult Requirement(std::string name, policies::CriterionStatus status,
                                      std::string reason, std::optional<double> observed = {},
                                      std::optional<double> threshold = {}) {
  policies::CriterionResult c;
  c.name = std::move(name);
  c.kind = policies::CriterionKind::kRequirement;
  c.status = status;
  c.reason = std::move(reason);
  c.observed = observed;
  c.threshold = threshold;
  return c;
}

policies::Decision SampleDecision() {
  policies::Decision d;
  d.policy = "support-bot";
  d.policy_digest = Digest('d');
  d.mode = policies::DecisionMode::kGate;
  d.confidence = 0.95;
  d.inconclusive = "hold";
  d.criteria = {
      Stat(policies::CriterionKind::kKpi, "support-kpi", "acc", "", true, 400, 0.6125, 0.6875,
           0.9875, {0.05, 0.1}, 0.05, 0.0095, policies::CriterionStatus::kPass,
           "improvement lower bound 0.05 >= min_delta 0.05"),
      Stat(policies::CriterionKind::kRegression, "general", "bits_per_byte", "", false, 300, 1.104,
           1.101, 0.975, {-0.009, 0.004}, -0.02208, 0, policies::CriterionStatus::kPass,
           "improvement lower bound -0.004 > -0.02208"),
      Stat(policies::CriterionKind::kRegression, "general", "bits_per_byte", "faq", false, 120,
           1.21, 1.236, 0.95, {0.004, 0.047}, -0.0242, 0.31,
           policies::CriterionStatus::kInconclusive,
           "the Holm step-down stopped at regression general/acc"),
      Stat(policies::CriterionKind::kRegression, "general", "acc", "", true, 300, 0.55, 0.51, 0.95,
           {-0.07, -0.015}, -0.01, 0.998, policies::CriterionStatus::kFail,
           "improvement upper bound -0.015 < -0.01"),
      Requirement("pre-declared policy", policies::CriterionStatus::kPass,
                  "the policy entered the log at seq 4, before the training run at seq 9"),
      Requirement("signed_by", policies::CriterionStatus::kPass,
                  "signed by key 5e1f... with role trainer"),
      Requirement("approvals", policies::CriterionStatus::kPending, "0 of 1 approvals", 0, 1),
      Requirement("max_rank", policies::CriterionStatus::kPass, "rank 8 <= 64", 8, 64),
  };
  d.verdict = policies::Verdict::kFail;
  d.exit_code = 10;
  return d;
}

stats::MetricComparison Comparison(std::string metric, bool higher_is_better, size_t n, double base,
                                   double adapter, stats::Interval interval,
                                   std::string slice = "") {
  stats::MetricComparison m;
  m.metric = std::move(metric);
  m.kind = higher_is_better ? stats::MetricKind::kMean : stats::MetricKind::kRatioOfSums;
  m.higher_is_better = higher_is_better;
  m.slice = std::move(slice);
  m.n = n;
  m.base = base;
  m.adapter = adapter;
  m.delta = adapter - base;
  m.interval = interval;
  m.resamples = 10000;
  m.seed = 1234;
  m.standard_error = 0.0125;
  m.minimum_detectable_effect = 0.035;
  return m;
}

void Hostile(std::string& s) { s += kHostile; }

void Hostile(policies::Decision& d) {
  Hostile(d.policy);
  Hostile(d.policy_digest);
  Hostile(d.inconclusive);
  for (policies::CriterionResult& c : d.criteria) {
    for (std::string* s : {&c.name, &c.suite, &c.metric, &c.slice, &c.reason}) Hostile(*s);
  }
}

void Hostile(reports::ObjectRef& ref) {
  Hostile(ref.name);
  Hostile(ref.digest);
}

void Hostile(std::vector<reports::AuditEvent>& events) {
  for (reports::AuditEvent& e : events) {
    for (std::string* s : {&e.time, &e.actor, &e.subject, &e.digest, &e.detail}) Hostile(*s);
  }
}

}  // namespace

reports::GateReportData SampleGate() {
  return {{"support-bot@3", Digest('a')}, {"tiny-gpt2", Digest('b')}, SampleDecision()};
}

reports::AdapterReportData SampleAdapter() {
  reports::AdapterReportData r;
  r.identity = {"support-bot",
                3,
                Digest('a'),
                {"tiny-gpt2", Digest('b')},
                "candidate",
                {"staging-eu"},
                false,
                {{"team", "support"}, {"ticket", "OPS-1742 <eu>"}},
                "Support bot for the EU site.\nTrained on Q3 tickets | *not* GA."};
  r.verification = {{"model.sig", true, "ECDSA P-256 key 5e1f... (trainer)"},
                    {"provenance", true, "SLSA provenance v1, 4 resolved dependencies"},
                    {"blob digests", true, "17 blobs"},
                    {"log consistency", false, "checkpoint 212 is not a prefix of 214"}};
  using K = reports::LineageNodeKind;
  r.lineage.nodes = {
      {"base", K::kBase, "tiny-gpt2", Digest('b')},
      {"data-train", K::kDataset, "support-train.jsonl", Digest('1')},
      {"data-valid", K::kDataset, "support-valid.jsonl", Digest('2')},
      {"parent", K::kParentAdapter, "support-bot@2", Digest('3')},
      {"policy", K::kPolicy, "support-bot policy v1", Digest('d')},
      {"run", K::kTrainingRun, "training run 2026-11-20", Digest('4')},
      {"adapter", K::kAdapter, "support-bot@3", Digest('a')},
      {"suite-kpi", K::kSuite, "support-kpi", Digest('5')},
      {"suite-general", K::kSuite, "general", Digest('6')},
      {"eval-1", K::kEvaluation, "evaluation 2026-11-21", Digest('7')},
      {"eval-0", K::kEvaluation, "evaluation 2026-11-20", Digest('8')},
      {"decision-1", K::kDecision, "gate decision", Digest('9')},
  };
  r.lineage.edges = {
      {"adapter", "base", "base"},          {"adapter", "data-train", "dataset"},
      {"adapter", "data-valid", "dataset"}, {"adapter", "parent", "parent"},
      {"adapter", "policy", "policy"},      {"adapter", "run", "trained by"},
      {"eval-1", "adapter", "evaluates"},   {"eval-0", "adapter", "evaluates"},
      {"eval-1", "suite-kpi", "suite"},     {"eval-1", "suite-general", "suite"},
      {"decision-1", "eval-1", "judges"},
  };
  reports::TrainingSummary training;
  training.config = Json::parse(
      R"({"lora": {"r": 8, "lora_alpha": 16, "target_modules": ["c_attn"]},
          "optimizer": {"lr": 0.0002}, "max_steps": 200, "seed": 1234, "threads": 2})");
  for (int64_t step = 10; step <= 200; step += 10) {
    reports::LossPoint p;
    p.step = step;
    p.train_loss = 1.4 + 1.8 * std::exp(-static_cast<double>(step) / 50.0);
    if (step % 50 == 0) p.valid_loss = p.train_loss + 0.12;
    training.loss.push_back(p);
  }
  r.training = training;

  stats::MetricComparison kpi_acc = Comparison("acc", true, 400, 0.6125, 0.6875, {0.055, 0.095});
  kpi_acc.mcnemar = stats::McNemarResult{12, 42, 0.0000612};
  stats::MetricComparison bpb =
      Comparison("bits_per_byte", false, 300, 1.104, 1.101, {-0.008, 0.003});
  bpb.slices = {Comparison("bits_per_byte", false, 180, 1.05, 1.043, {-0.012, -0.001}, "billing"),
                Comparison("bits_per_byte", false, 120, 1.21, 1.236, {0.006, 0.045}, "faq")};
  stats::MetricComparison general_acc = Comparison("acc", true, 300, 0.55, 0.51, {-0.065, -0.017});
  general_acc.mcnemar = stats::McNemarResult{30, 18, 0.11};
  r.evaluations = {
      {Digest('7'),
       "2026-11-21T10:15:00Z",
       {{{"support-kpi", Digest('5')}, {kpi_acc}}, {{"general", Digest('6')}, {bpb, general_acc}}}},
      {Digest('8'),
       "2026-11-20T18:02:00Z",
       {{{"support-kpi", Digest('5')},
         {Comparison("acc", true, 400, 0.6125, 0.64, {-0.004, 0.06})}}}},
  };
  r.decisions = {{Digest('9'), Digest('7'), SampleDecision(), "ci-evaluator",
                  "5e1f" + std::string(60, '0'), "2026-11-21T10:16:30Z"}};
  r.approvals = {{"alice", "a11ce" + std::string(59, '0'), "2026-11-22T09:00:00Z",
                  "reviewed the faq slice by hand"}};
  r.log = {{4, "2026-11-19T08:00:00Z", "bob", "policy.register", {Digest('d')}, true},
           {9, "2026-11-20T07:30:00Z", "trainer-ci", "training.start", {Digest('4')}, true},
           {12,
            "2026-11-20T17:40:00Z",
            "trainer-ci",
            "adapter.register",
            {Digest('a'), Digest('4')},
            true},
           {14,
            "2026-11-21T10:16:30Z",
            "ci-evaluator",
            "decision.record",
            {Digest('9'), Digest('7')},
            false}};
  return r;
}

reports::AuditReportData SampleAudit() {
  reports::AuditReportData a;
  a.since = "2026-11-01T00:00:00Z";
  a.until = "2026-11-28T00:00:00Z";
  a.checkpoint = {"graft.example/registry", 214,
                  "q7Yt0mN2bX1c5T3oPp8vRwZkLx4sHu6gFjEiD9aBCdE=", true};
  a.promotions = {{31, "2026-11-05T12:00:00Z", "alice", "support-bot@2 -> production", Digest('3'),
                   "policy support-bot: pass, 1 approval"},
                  {88, "2026-11-22T09:05:00Z", "alice", "support-bot@3 -> staging-eu", Digest('a'),
                   "policy support-bot: pass"}};
  a.rollbacks = {{95, "2026-11-23T14:00:00Z", "oncall", "production -> support-bot@2", Digest('3'),
                  "latency regression reported by monitoring"}};
  a.revocations = {{70, "2026-11-15T16:20:00Z", "security", "key 0bad...", Digest('0'),
                    "key compromised; 2 adapters flagged"}};
  a.failed_gates = {{84, "2026-11-21T10:16:30Z", "ci-evaluator", "support-bot@3", Digest('9'),
                     "regression general/acc failed"}};
  a.post_hoc_policy_attempts = {{60, "2026-11-12T11:11:00Z", "mallory", "support-bot@1",
                                 Digest('e'), "policy registered after the training run started"}};
  return a;
}

reports::GateReportData HostileGate() {
  reports::GateReportData g = SampleGate();
  Hostile(g.adapter);
  Hostile(g.base);
  Hostile(g.decision);
  return g;
}

reports::AdapterReportData HostileAdapter() {
  reports::AdapterReportData r = SampleAdapter();
  reports::AdapterIdentity& id = r.identity;
  for (std::string* s : {&id.name, &id.digest, &id.stage}) Hostile(*s);
  Hostile(id.base);
  for (std::string& c : id.channels) Hostile(c);
  for (reports::VerificationRow& v : r.verification) {
    Hostile(v.check);
    Hostile(v.detail);
  }
  for (reports::LineageNode& n : r.lineage.nodes) {
    for (std::string* s : {&n.id, &n.label, &n.digest}) Hostile(*s);
  }
  for (reports::LineageEdge& e : r.lineage.edges) {
    for (std::string* s : {&e.from, &e.to, &e.label}) Hostile(*s);
  }
  r.training->config["note" + kHostile] = kHostile;
  for (reports::EvaluationRecord& e : r.evaluations) {
    Hostile(e.id);
    Hostile(e.time);
    for (reports::SuiteResults& s : e.suites) {
      Hostile(s.suite);
      for (stats::MetricComparison& m : s.metrics) {
        Hostile(m.metric);
        for (stats::MetricComparison& slice : m.slices) Hostile(slice.slice);
      }
    }
  }
  for (reports::DecisionRecord& d : r.decisions) {
    for (std::string* s : {&d.id, &d.evaluation_id, &d.signed_by, &d.key_id, &d.time}) Hostile(*s);
    Hostile(d.decision);
  }
  for (reports::ApprovalRecord& a : r.approvals) {
    for (std::string* s : {&a.approver, &a.key_id, &a.time, &a.comment}) Hostile(*s);
  }
  for (reports::LogEntry& e : r.log) {
    for (std::string* s : {&e.time, &e.actor, &e.action}) Hostile(*s);
    for (std::string& d : e.digests) Hostile(d);
  }
  return r;
}

reports::AuditReportData HostileAudit() {
  reports::AuditReportData a = SampleAudit();
  for (std::string* s : {&a.since, &a.until, &a.checkpoint.origin, &a.checkpoint.root}) Hostile(*s);
  for (std::vector<reports::AuditEvent>* events :
       {&a.promotions, &a.rollbacks, &a.retirements, &a.revocations, &a.failed_gates,
        &a.post_hoc_policy_attempts}) {
    Hostile(*events);
  }
  return a;
}

std::filesystem::path SourcePath(const std::string& relative) {
  return std::filesystem::path(GRAFT_SOURCE_DIR) / relative;
}

void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::filesystem::path path = SourcePath("tests/data/golden/" + name);
  const char* update = std::getenv("GRAFT_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << path
                  << " (run the test with GRAFT_UPDATE_GOLDEN=1 to write it)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(expected.str(), actual) << "golden file " << path
                                    << " differs; if the change is intended, rerun the test with "
                                       "GRAFT_UPDATE_GOLDEN=1 and review the diff";
}

bool HaveProgram(std::string_view program) {
  return std::system(("command -v " + std::string(program) + " >/dev/null 2>&1").c_str()) == 0;
}

ToolResult RunOnFile(const std::string& command, const std::string& file_name,
                     const std::string& content) {
  // A fresh directory per call: several checkouts may run these tests at the same time.
  std::string dir_template =
      (std::filesystem::temp_directory_path() / "graft-reports-test-XXXXXX").string();
  if (mkdtemp(dir_template.data()) == nullptr) return {};
  const std::filesystem::path dir(dir_template);
  const std::filesystem::path file = dir / file_name;
  std::ofstream(file, std::ios::binary) << content;
  ToolResult result;
  if (FILE* pipe = popen((command + " '" + file.string() + "' 2>&1").c_str(), "r")) {
    char buffer[4096];
    size_t read;
    while ((read = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, read);
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::filesystem::remove_all(dir);
  return result;
}

}  // namespace graft::testing
