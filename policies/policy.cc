#include "policies/policy.h"

#include <algorithm>
#include <set>
#include <utility>

#include "core/file_util.h"
#include "core/sha256.h"
#include "core/yaml_reader.h"
#include "evaluator/stats/metric_info.h"
#include "policies/separate_duties.h"
#include "registry/vocabulary.h"

namespace graft::policies {
namespace {

constexpr uint64_t kMaxPolicyBytes = uint64_t{1} << 20;

// Policies read every value with graft's strict YAML reader, plus metric names.
class Reader : public YamlReader {
 public:
  using YamlReader::YamlReader;

  Result<std::string> Metric(const YAML::Node& node, const std::string& path) const {
    GRAFT_ASSIGN_OR_RETURN(std::string metric, String(node, path));
    Result<stats::MetricInfo> info = stats::LookupMetric(metric);
    if (!info.ok()) return Error(node, path, info.status().message());
    return metric;
  }
};

constexpr auto* Child = &YamlReader::Child;
constexpr auto* Index = &YamlReader::Index;
constexpr auto* Describe = &YamlReader::Describe;

Status ParseKpis(const Reader& r, const YAML::Node& node, const std::string& path,
                 std::vector<KpiCriterion>& out) {
  if (!node.IsSequence()) return r.Error(node, path, "expected a list, got " + Describe(node));
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string at = Index(path, i);
    GRAFT_RETURN_IF_ERROR(r.CheckMap(item, at, {"suite", "metric", "min_delta"}));
    KpiCriterion kpi;
    GRAFT_ASSIGN_OR_RETURN(YAML::Node suite, r.Required(item, at, "suite"));
    GRAFT_ASSIGN_OR_RETURN(kpi.suite, r.String(suite, Child(at, "suite")));
    GRAFT_ASSIGN_OR_RETURN(YAML::Node metric, r.Required(item, at, "metric"));
    GRAFT_ASSIGN_OR_RETURN(kpi.metric, r.Metric(metric, Child(at, "metric")));
    GRAFT_ASSIGN_OR_RETURN(YAML::Node min_delta, r.Required(item, at, "min_delta"));
    GRAFT_ASSIGN_OR_RETURN(kpi.min_delta, r.Number(min_delta, Child(at, "min_delta")));
    if (kpi.min_delta < 0) {
      return r.Error(
          min_delta, Child(at, "min_delta"),
          "must be >= 0 (state allowed losses as a regression margin), got " + min_delta.Scalar());
    }
    if (!seen.insert({kpi.suite, kpi.metric}).second) {
      return r.Error(item, at, "a second KPI on " + kpi.suite + "/" + kpi.metric);
    }
    out.push_back(std::move(kpi));
  }
  return Status::Ok();
}

Status ParseRegressions(const Reader& r, const YAML::Node& node, const std::string& path,
                        std::vector<RegressionCriterion>& out) {
  if (!node.IsSequence()) return r.Error(node, path, "expected a list, got " + Describe(node));
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string at = Index(path, i);
    GRAFT_RETURN_IF_ERROR(
        r.CheckMap(item, at, {"suite", "metric", "margin", "relative", "per_slice"}));
    RegressionCriterion regression;
    GRAFT_ASSIGN_OR_RETURN(YAML::Node suite, r.Required(item, at, "suite"));
    GRAFT_ASSIGN_OR_RETURN(regression.suite, r.String(suite, Child(at, "suite")));
    GRAFT_ASSIGN_OR_RETURN(YAML::Node metric, r.Required(item, at, "metric"));
    GRAFT_ASSIGN_OR_RETURN(regression.metric, r.Metric(metric, Child(at, "metric")));
    GRAFT_ASSIGN_OR_RETURN(YAML::Node margin, r.Required(item, at, "margin"));
    GRAFT_ASSIGN_OR_RETURN(regression.margin, r.Number(margin, Child(at, "margin")));
    if (item["relative"]) {
      GRAFT_ASSIGN_OR_RETURN(regression.relative, r.Bool(item["relative"], Child(at, "relative")));
    }
    if (item["per_slice"]) {
      GRAFT_ASSIGN_OR_RETURN(regression.per_slice,
                             r.Bool(item["per_slice"], Child(at, "per_slice")));
    }
    if (regression.margin < 0) {
      return r.Error(margin, Child(at, "margin"), "must be >= 0, got " + margin.Scalar());
    }
    if (regression.relative && regression.margin > 1) {
      return r.Error(margin, Child(at, "margin"),
                     "a relative margin is a fraction of the base value and must be <= 1, got " +
                         margin.Scalar());
    }
    if (!seen.insert({regression.suite, regression.metric}).second) {
      return r.Error(item, at,
                     "a second regression check on " + regression.suite + "/" + regression.metric);
    }
    out.push_back(std::move(regression));
  }
  return Status::Ok();
}

Status ParseRequire(const Reader& r, const YAML::Node& node, const std::string& path,
                    Requirements& out) {
  GRAFT_RETURN_IF_ERROR(r.CheckMap(
      node, path,
      {"signed_by", "approvals", "separate_duties", "announced", "max_rank", "max_size_bytes"}));
  if (node["signed_by"]) {
    const std::string at = Child(path, "signed_by");
    GRAFT_ASSIGN_OR_RETURN(std::string role, r.String(node["signed_by"], at));
    if (role != registry::kTrainerRole && role != registry::kEvaluatorRole &&
        role != registry::kApproverRole && role != registry::kRegistryRole) {
      return r.Error(
          node["signed_by"], at,
          "unknown key role \"" + role + "\" (expected trainer, evaluator, approver or registry)");
    }
    out.signed_by = role;
  }
  if (node["approvals"]) {
    GRAFT_ASSIGN_OR_RETURN(out.approvals,
                           r.Integer(node["approvals"], Child(path, "approvals"), 0, 100));
  }
  if (const YAML::Node duties = node["separate_duties"]) {
    const std::string at = Child(path, "separate_duties");
    if (!duties.IsSequence()) {
      GRAFT_ASSIGN_OR_RETURN(bool separate, r.Bool(duties, at));
      if (separate) out.separate_duties = {registry::kTrainerRole, registry::kApproverRole};
    } else {
      for (size_t i = 0; i < duties.size(); ++i) {
        const std::string item = at + "[" + std::to_string(i) + "]";
        GRAFT_ASSIGN_OR_RETURN(std::string role, r.String(duties[i], item));
        if (std::find(std::begin(kDutyRoles), std::end(kDutyRoles), role) == std::end(kDutyRoles)) {
          return r.Error(duties[i], item,
                         "unknown duty \"" + role + "\" (expected trainer, evaluator or approver)");
        }
        if (std::find(out.separate_duties.begin(), out.separate_duties.end(), role) !=
            out.separate_duties.end()) {
          return r.Error(duties[i], item, "\"" + role + "\" is listed twice");
        }
        out.separate_duties.push_back(role);
      }
      if (out.separate_duties.size() < 2) {
        return r.Error(duties, at, "list at least two duties to keep apart (or true/false)");
      }
    }
  }
  if (node["announced"]) {
    GRAFT_ASSIGN_OR_RETURN(out.announced, r.Bool(node["announced"], Child(path, "announced")));
  }
  if (node["max_rank"]) {
    GRAFT_ASSIGN_OR_RETURN(out.max_rank,
                           r.Integer(node["max_rank"], Child(path, "max_rank"), 1, 1 << 20));
  }
  if (node["max_size_bytes"]) {
    GRAFT_ASSIGN_OR_RETURN(
        out.max_size_bytes,
        r.Integer(node["max_size_bytes"], Child(path, "max_size_bytes"), 1, INT64_MAX));
  }
  return Status::Ok();
}

// promotion: evidence, max_looks, alpha_spending, max_candidates and bootstrap (docs/policies.md,
// "Evidence, looks and candidates").
Status ParseSequential(const Reader& r, const YAML::Node& node, const std::string& path,
                       PromotionCriteria& out) {
  if (const YAML::Node evidence = node["evidence"]) {
    const std::string at = Child(path, "evidence");
    GRAFT_RETURN_IF_ERROR(
        r.CheckMap(evidence, at, {"min_items", "min_discordant", "min_effective_n"}));
    if (evidence["min_items"]) {
      GRAFT_ASSIGN_OR_RETURN(
          out.evidence.min_items,
          r.Integer(evidence["min_items"], Child(at, "min_items"), 1, INT64_MAX));
    }
    if (evidence["min_discordant"]) {
      GRAFT_ASSIGN_OR_RETURN(
          out.evidence.min_discordant,
          r.Integer(evidence["min_discordant"], Child(at, "min_discordant"), 1, INT64_MAX));
    }
    if (evidence["min_effective_n"]) {
      const std::string n_at = Child(at, "min_effective_n");
      GRAFT_ASSIGN_OR_RETURN(out.evidence.min_effective_n,
                             r.Number(evidence["min_effective_n"], n_at));
      if (!(out.evidence.min_effective_n >= 1)) {
        return r.Error(evidence["min_effective_n"], n_at, "must be >= 1");
      }
    }
  }
  if (node["max_looks"]) {
    GRAFT_ASSIGN_OR_RETURN(out.max_looks,
                           r.Integer(node["max_looks"], Child(path, "max_looks"), 1, 1000));
  }
  if (node["alpha_spending"]) {
    const std::string at = Child(path, "alpha_spending");
    GRAFT_ASSIGN_OR_RETURN(std::string rule, r.String(node["alpha_spending"], at));
    if (rule == "obrien-fleming") {
      out.alpha_spending = AlphaSpending::kObrienFleming;
    } else if (rule == "pocock") {
      out.alpha_spending = AlphaSpending::kPocock;
    } else {
      return r.Error(node["alpha_spending"], at,
                     "expected obrien-fleming or pocock, got \"" + rule + "\"");
    }
    if (!out.max_looks) {
      return r.Error(node["alpha_spending"], at, "needs max_looks (the looks to spend over)");
    }
  }
  if (node["max_candidates"]) {
    GRAFT_ASSIGN_OR_RETURN(
        out.max_candidates,
        r.Integer(node["max_candidates"], Child(path, "max_candidates"), 1, 1000000));
  }
  if (const YAML::Node bootstrap = node["bootstrap"]) {
    const std::string at = Child(path, "bootstrap");
    GRAFT_RETURN_IF_ERROR(r.CheckMap(bootstrap, at, {"resamples", "seed"}));
    if (bootstrap["resamples"]) {
      GRAFT_ASSIGN_OR_RETURN(
          out.bootstrap_resamples,
          r.Integer(bootstrap["resamples"], Child(at, "resamples"), 100, 10'000'000));
    }
    if (bootstrap["seed"]) {
      GRAFT_ASSIGN_OR_RETURN(int64_t seed,
                             r.Integer(bootstrap["seed"], Child(at, "seed"), 0, INT64_MAX));
      out.bootstrap_seed = static_cast<uint64_t>(seed);
    }
  }
  return Status::Ok();
}

Status ParsePromotion(const Reader& r, const YAML::Node& node, PromotionCriteria& out) {
  const std::string path = "promotion";
  GRAFT_RETURN_IF_ERROR(
      r.CheckMap(node, path,
                 {"confidence", "kpis", "regressions", "require", "inconclusive", "evidence",
                  "max_looks", "alpha_spending", "max_candidates", "bootstrap"}));
  if (node["confidence"]) {
    const std::string at = Child(path, "confidence");
    GRAFT_ASSIGN_OR_RETURN(out.confidence, r.Number(node["confidence"], at));
    if (!(out.confidence > 0 && out.confidence < 1)) {
      return r.Error(node["confidence"], at,
                     "must be in (0, 1), got " + node["confidence"].Scalar());
    }
  }
  if (node["kpis"])
    GRAFT_RETURN_IF_ERROR(ParseKpis(r, node["kpis"], Child(path, "kpis"), out.kpis));
  if (node["regressions"]) {
    GRAFT_RETURN_IF_ERROR(
        ParseRegressions(r, node["regressions"], Child(path, "regressions"), out.regressions));
  }
  if (node["require"]) {
    GRAFT_RETURN_IF_ERROR(ParseRequire(r, node["require"], Child(path, "require"), out.require));
  }
  if (node["inconclusive"]) {
    const std::string at = Child(path, "inconclusive");
    GRAFT_ASSIGN_OR_RETURN(std::string action, r.String(node["inconclusive"], at));
    if (action == "fail") {
      out.inconclusive = InconclusiveAction::kFail;
    } else if (action == "hold") {
      out.inconclusive = InconclusiveAction::kHold;
    } else {
      return r.Error(node["inconclusive"], at, "expected fail or hold, got \"" + action + "\"");
    }
  }
  return ParseSequential(r, node, path, out);
}

Status ParseMonitor(const Reader& r, const YAML::Node& item, const std::string& at,
                    ExitCriteria& out) {
  GRAFT_RETURN_IF_ERROR(r.CheckMap(item, at, {"monitor", "metric", "floor", "ceiling"}));
  MonitorExit monitor;
  GRAFT_ASSIGN_OR_RETURN(monitor.monitor, r.String(item["monitor"], Child(at, "monitor")));
  GRAFT_ASSIGN_OR_RETURN(YAML::Node metric, r.Required(item, at, "metric"));
  GRAFT_ASSIGN_OR_RETURN(monitor.metric, r.Metric(metric, Child(at, "metric")));
  if (item["floor"].IsDefined() == item["ceiling"].IsDefined()) {
    return r.Error(item, at, "needs exactly one of \"floor\" and \"ceiling\"");
  }
  if (item["floor"]) {
    GRAFT_ASSIGN_OR_RETURN(monitor.floor, r.Number(item["floor"], Child(at, "floor")));
  } else {
    GRAFT_ASSIGN_OR_RETURN(monitor.ceiling, r.Number(item["ceiling"], Child(at, "ceiling")));
  }
  out.monitors.push_back(std::move(monitor));
  return Status::Ok();
}

Status ParseOnRevoked(const Reader& r, const YAML::Node& item, const std::string& at,
                      ExitCriteria& out) {
  GRAFT_RETURN_IF_ERROR(r.CheckMap(item, at, {"on_revoked"}));
  if (!out.on_revoked.empty()) return r.Error(item, at, "a second on_revoked entry");
  const std::string list_at = Child(at, "on_revoked");
  const YAML::Node list = item["on_revoked"];
  if (!list.IsSequence() || list.size() == 0) {
    return r.Error(list, list_at, "expected a non-empty list of key, dataset, base");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    GRAFT_ASSIGN_OR_RETURN(std::string name, r.String(list[i], Index(list_at, i)));
    RevocationKind kind;
    if (name == "key") {
      kind = RevocationKind::kKey;
    } else if (name == "dataset") {
      kind = RevocationKind::kDataset;
    } else if (name == "base") {
      kind = RevocationKind::kBase;
    } else {
      return r.Error(list[i], Index(list_at, i),
                     "expected key, dataset or base, got \"" + name + "\"");
    }
    if (std::find(out.on_revoked.begin(), out.on_revoked.end(), kind) != out.on_revoked.end()) {
      return r.Error(list[i], Index(list_at, i), "\"" + name + "\" listed twice");
    }
    out.on_revoked.push_back(kind);
  }
  return Status::Ok();
}

Status ParseExit(const Reader& r, const YAML::Node& node, ExitCriteria& out) {
  const std::string path = "exit";
  if (!node.IsSequence()) return r.Error(node, path, "expected a list, got " + Describe(node));
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string at = Index(path, i);
    if (!item.IsMap()) return r.Error(item, at, "expected a mapping, got " + Describe(item));
    if (item["monitor"]) {
      GRAFT_RETURN_IF_ERROR(ParseMonitor(r, item, at, out));
    } else if (item["max_age_days"]) {
      GRAFT_RETURN_IF_ERROR(r.CheckMap(item, at, {"max_age_days"}));
      if (out.max_age_days) return r.Error(item, at, "a second max_age_days entry");
      GRAFT_ASSIGN_OR_RETURN(out.max_age_days,
                             r.Integer(item["max_age_days"], Child(at, "max_age_days"), 1, 36500));
    } else if (item["on_revoked"]) {
      GRAFT_RETURN_IF_ERROR(ParseOnRevoked(r, item, at, out));
    } else {
      return r.Error(item, at, "expected one of monitor, max_age_days, on_revoked");
    }
  }
  return Status::Ok();
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

}  // namespace

std::string_view AlphaSpendingName(AlphaSpending spending) {
  return spending == AlphaSpending::kPocock ? "pocock" : "obrien-fleming";
}

std::string_view RevocationKindName(RevocationKind kind) {
  switch (kind) {
    case RevocationKind::kKey:
      return "key";
    case RevocationKind::kDataset:
      return "dataset";
    case RevocationKind::kBase:
      return "base";
  }
  return "unknown";
}

bool Revocations::Is(RevocationKind kind) const {
  switch (kind) {
    case RevocationKind::kKey:
      return key;
    case RevocationKind::kDataset:
      return dataset;
    case RevocationKind::kBase:
      return base;
  }
  return false;
}

std::string CanonicalPolicyBytes(std::string_view bytes) {
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') continue;
    out.push_back(bytes[i]);
  }
  return out;
}

std::string PolicyDigest(std::string_view bytes) {
  return "sha256:" + Sha256Hex(CanonicalPolicyBytes(bytes));
}

Result<Policy> ParsePolicy(std::string_view bytes, std::string_view source) {
  const std::string src(source);
  if (bytes.size() > kMaxPolicyBytes) return InvalidInput(src + ": larger than 1 MiB");
  const std::string canonical = CanonicalPolicyBytes(bytes);
  if (canonical.find('\0') != std::string::npos) return InvalidInput(src + ": contains a NUL byte");
  const Reader r(source);
  GRAFT_ASSIGN_OR_RETURN(YAML::Node root, r.Parse(canonical));
  Policy policy;
  policy.digest = "sha256:" + Sha256Hex(canonical);
  try {
    GRAFT_RETURN_IF_ERROR(r.CheckMap(root, "", {"policy", "base", "promotion", "exit"}));
    GRAFT_ASSIGN_OR_RETURN(YAML::Node name, r.Required(root, "", "policy"));
    GRAFT_ASSIGN_OR_RETURN(policy.name, r.String(name, "policy"));
    if (!ValidName(policy.name)) {
      return r.Error(name, "policy", "a name is 1-128 characters of A-Z a-z 0-9 . _ -");
    }
    if (root["base"]) {
      GRAFT_ASSIGN_OR_RETURN(std::string base, r.String(root["base"], "base"));
      Result<Digest> digest = ParseDigestHex(base);
      if (!digest.ok() || !base.starts_with("sha256:")) {
        return r.Error(root["base"], "base",
                       "expected sha256:<64 hex digits>, got \"" + base + "\"");
      }
      policy.base = "sha256:" + DigestHex(*digest);
    }
    GRAFT_ASSIGN_OR_RETURN(YAML::Node promotion, r.Required(root, "", "promotion"));
    GRAFT_RETURN_IF_ERROR(ParsePromotion(r, promotion, policy.promotion));
    if (root["exit"]) GRAFT_RETURN_IF_ERROR(ParseExit(r, root["exit"], policy.exit));
  } catch (const YAML::Exception& e) {
    return InvalidInput(src + ": " + e.msg);
  }
  return policy;
}

Result<Policy> LoadPolicy(const std::filesystem::path& path) {
  GRAFT_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, kMaxPolicyBytes));
  return ParsePolicy(bytes, path.string());
}

}  // namespace graft::policies
