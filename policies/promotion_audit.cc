#include "policies/promotion_audit.h"

#include <map>
#include <set>
#include <vector>

#include "core/dsse.h"
#include "core/intoto.h"
#include "policies/decision.h"
#include "policies/lifecycle.h"
#include "policies/policy.h"
#include "policies/separate_duties.h"
#include "registry/key_history.h"
#include "registry/vocabulary.h"

namespace graft::policies {
namespace {

constexpr size_t kMaxListed = 20;

struct Signed {
  uint64_t seq = 0;
  std::string digest;
  std::vector<std::string> key_ids;
  std::string policy;  // decisions: the policy digest their lineage edge names
};

struct Adapter {
  std::vector<registry::Edge> edges;  // from the adapter (relation, dst)
  std::vector<Signed> decisions;
  std::vector<Signed> approvals;
};

std::string Short(const std::string& digest) { return "sha256:" + digest.substr(0, 16); }

std::vector<std::string> Strings(const Json& json) {
  std::vector<std::string> out;
  if (!json.is_array()) return out;
  for (const Json& item : json) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<registry::Edge> Edges(const std::string& src, const Json& json) {
  std::vector<registry::Edge> out;
  if (!json.is_array()) return out;
  for (const Json& e : json) {
    if (e.is_object() && e.value("relation", Json()).is_string() &&
        e.value("dst", Json()).is_string()) {
      out.push_back({src, e["relation"].get<std::string>(), e["dst"].get<std::string>()});
    }
  }
  return out;
}

// The log replayed up to one position: what a channel change must be checked against.
class Replay {
 public:
  explicit Replay(registry::Registry& registry) : registry_(registry) {}

  void Apply(const registry::Event& event) {
    keys_.Apply(event);
    const std::string action = event.json.value("action", "");
    const Json details = event.json.value("details", Json::object());
    if (!details.is_object()) return;
    const std::string digest = details.value("digest", Json()).is_string()
                                   ? details["digest"].get<std::string>()
                                   : std::string();
    if (action == "adapter.register") {
      adapters_[digest].edges = Edges(digest, details.value("edges", Json()));
    } else if (action == "policy.register") {
      const Json label = details.value("label", Json::object());
      policies_[digest] = label.is_object() && label.value("name", Json()).is_string()
                              ? label["name"].get<std::string>() + " (" + Short(digest) + ")"
                              : Short(digest);
    } else if (action.ends_with(".revoke") && action != registry::kKeyRevokeEvent) {
      revoked_.emplace(digest, "revoked at event " + std::to_string(event.seq) + ": " +
                                   details.value("reason", ""));
    } else if (action == registry::kAttestationAddEvent) {
      const std::string kind = details.value("kind", "");
      auto adapter = adapters_.find(details.value("subject", ""));
      if (adapter == adapters_.end() ||
          (kind != registry::kDecisionAttestation && kind != registry::kApprovalAttestation)) {
        return;
      }
      Signed record{event.seq, digest, Strings(details.value("key_ids", Json())), ""};
      for (const registry::Edge& e : Edges(digest, details.value("edges", Json()))) {
        if (e.relation == registry::kPolicyRelation) record.policy = e.dst;
      }
      (kind == registry::kDecisionAttestation ? adapter->second.decisions
                                              : adapter->second.approvals)
          .push_back(std::move(record));
    }
  }

  // Why the promotion of `digest` at this position was not allowed ("" when it was).
  Result<std::string> CheckPromotion(const std::string& digest) {
    auto it = adapters_.find(digest);
    if (it == adapters_.end()) return "sha256:" + digest + " is not a registered adapter";
    const Adapter& adapter = it->second;
    std::vector<std::string> why;
    // Nothing revoked: the adapter, what it depends on, the keys that signed it, transitively.
    CollectRevoked(digest, "", why, {});
    // The governing policy and the latest decision under it.
    std::string governing;
    for (const registry::Edge& e : adapter.edges) {
      if (e.relation == registry::kPolicyRelation) governing = e.dst;
    }
    const Signed* decision = nullptr;
    for (const Signed& d : adapter.decisions) {
      if (!keys_.Why(d.key_ids.empty() ? "" : d.key_ids.front(), {registry::kEvaluatorRole})
               .empty())
        continue;
      if (governing.empty() || d.policy == governing) decision = &d;
    }
    if (governing.empty() && decision != nullptr) governing = decision->policy;
    const std::string policy_name = governing.empty()               ? std::string("(none)")
                                    : policies_.contains(governing) ? policies_[governing]
                                                                    : Short(governing);
    if (decision == nullptr) {
      why.push_back("no passing decision under policy " + policy_name +
                    " signed by an evaluator key valid at this point");
      return Join(why);
    }
    GRAFT_ASSIGN_OR_RETURN(std::string verdict, DecisionProblem(*decision, digest, governing));
    if (!verdict.empty()) why.push_back(verdict);
    if (!policies_.contains(governing)) {
      why.push_back("its governing policy " + policy_name + " is not registered");
      return Join(why);
    }
    GRAFT_ASSIGN_OR_RETURN(std::string bytes, registry_.ReadBlob(governing));
    GRAFT_ASSIGN_OR_RETURN(Policy policy, ParsePolicy(bytes, "policy " + Short(governing)));
    const Requirements& require = policy.promotion.require;
    SeparateDuties duties(require.separate_duties);
    for (const registry::Edge& e : adapter.edges) {
      if (e.relation == registry::kSignedByRelation) duties.Acted(registry::kTrainerRole, e.dst);
    }
    for (const Signed& d : adapter.decisions) {
      for (const std::string& key : d.key_ids) duties.Acted(registry::kEvaluatorRole, key);
    }
    for (const std::string& conflict : duties.Conflicts()) {
      why.push_back("separate_duties: " + conflict);
    }
    std::set<std::string> approvers;
    for (const Signed& a : adapter.approvals) {
      for (const std::string& key : a.key_ids) {
        if (!keys_.Why(key, {registry::kApproverRole}).empty()) continue;
        if (!duties.ApprovalExcluded(key).empty()) continue;
        approvers.insert(key);
      }
    }
    if (static_cast<int64_t>(approvers.size()) < require.approvals) {
      why.push_back(std::to_string(approvers.size()) + " of " + std::to_string(require.approvals) +
                    " distinct approvals policy " + policy.name +
                    " needs (approver keys valid at this point)");
    }
    return Join(why);
  }

 private:
  // The decision's signed verdict: "" when it passed the gate under `governing`.
  Result<std::string> DecisionProblem(const Signed& decision, const std::string& adapter,
                                      const std::string& governing) {
    const std::string what =
        "decision " + Short(decision.digest) + " (event " + std::to_string(decision.seq) + ")";
    GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope, registry_.LoadAttestation(decision.digest));
    std::vector<PublicKey> signers;
    for (const std::string& id : decision.key_ids) {
      if (const PublicKey* key = keys_.Find(id)) signers.push_back(*key);
    }
    if (!DsseVerify(envelope, signers).ok()) return what + ": its signature does not verify";
    Result<InTotoStatement> statement = InTotoStatement::Parse(envelope.payload, what);
    if (!statement.ok()) return statement.status().message();
    const Json& predicate = statement->predicate;
    const Json gate = predicate.value("decision", Json::object());
    if (statement->predicate_type != kDecisionPredicateType ||
        predicate.value("adapter", "") != "sha256:" + adapter ||
        predicate.value("policy", "") != "sha256:" + governing) {
      return what + ": not a decision about this adapter under policy " + Short(governing);
    }
    if (!gate.is_object() || gate.value("verdict", "") != VerdictName(Verdict::kPass) ||
        gate.value("mode", "") != DecisionModeName(DecisionMode::kGate)) {
      return "no passing decision under policy " + PolicyName(governing) + ": the latest, " + what +
             ", says " + (gate.is_object() ? gate.value("verdict", "?") : std::string("?"));
    }
    return std::string();
  }

  void CollectRevoked(const std::string& digest, const std::string& prefix,
                      std::vector<std::string>& why, std::set<std::string> seen) {
    if (!seen.insert(digest).second) return;
    if (auto r = revoked_.find(digest); r != revoked_.end()) {
      why.push_back((prefix.empty() ? "the adapter" : prefix + " " + Short(digest)) + " was " +
                    r->second);
    }
    auto it = adapters_.find(digest);
    if (it == adapters_.end()) return;
    for (const registry::Edge& e : it->second.edges) {
      const std::string relation = prefix + (prefix.empty() ? "" : "/") + e.relation;
      if (e.relation == registry::kSignedByRelation) {
        const std::string problem = keys_.Why(e.dst, {});
        if (problem.find("revoked") != std::string::npos) why.push_back("its signing " + problem);
      } else if (e.relation == registry::kParentRelation) {
        CollectRevoked(e.dst, relation, why, seen);
      } else if (auto r = revoked_.find(e.dst); r != revoked_.end()) {
        why.push_back("its " + relation + " " + Short(e.dst) + " was " + r->second);
      }
    }
  }

  std::string PolicyName(const std::string& digest) const {
    auto it = policies_.find(digest);
    return it == policies_.end() ? Short(digest) : it->second;
  }

  static std::string Join(const std::vector<std::string>& parts) {
    std::string out;
    for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
  }

  registry::Registry& registry_;
  registry::KeyHistory keys_;
  std::map<std::string, Adapter> adapters_;
  std::map<std::string, std::string> policies_;  // digest -> "name (sha256:...)"
  std::map<std::string, std::string> revoked_;   // digest -> "revoked at event N: reason"
};

}  // namespace

Status PromotionAudit::Run(registry::AuditReport& report) {
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, registry_.LogSize());
  Replay replay(registry_);
  std::map<std::string, std::vector<std::string>> stacks;  // channel -> served, rollbacks pop
  size_t count = 0;
  size_t changes = 0;
  for (uint64_t seq = 0; seq < size; ++seq) {
    Result<registry::Event> event = registry_.GetEvent(seq);
    if (!event.ok()) continue;  // a missing or unparsable event is the registry audit's problem
    if (event->json.value("action", "") == registry::kChannelSetEvent) {
      ++changes;
      const Json details = event->json.value("details", Json::object());
      const std::string channel = details.value("channel", "");
      const std::string digest = details.value("digest", "");
      std::vector<std::string>& stack = stacks[channel];
      std::string why;
      if (details.value("reason", "").starts_with("rollback")) {
        if (stack.size() < 2 || stack[stack.size() - 2] != digest) {
          why = "a rollback to " + Short(digest) + ", which is not the version " + channel +
                " served before the current one";
        }
        if (!stack.empty()) stack.pop_back();
      } else {
        GRAFT_ASSIGN_OR_RETURN(why, replay.CheckPromotion(digest));
        stack.push_back(digest);
      }
      if (!why.empty() && ++count <= kMaxListed) {
        report.problems.push_back("event " + std::to_string(seq) + " channel.set " + channel +
                                  " -> " + Short(digest) + ": " + why);
      }
    }
    replay.Apply(*event);
  }
  if (count > kMaxListed) {
    report.problems.push_back("... and " + std::to_string(count - kMaxListed) +
                              " more unauthorised channel changes");
  }
  report.checked.push_back(std::to_string(changes) +
                           " channel changes replayed: each promotion backed by a passing "
                           "decision under the governing policy, its approvals and no "
                           "revocation at that point; each rollback to the previous version");
  return Status::Ok();
}

}  // namespace graft::policies
