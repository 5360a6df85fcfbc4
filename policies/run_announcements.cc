#include "policies/run_announcements.h"

#include <algorithm>
#include <random>
#include <set>
#include <span>

#include "core/encoding.h"

namespace graft {
namespace {

constexpr std::string_view kAction = "run.announce";

bool IsDigest(const std::string& text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Result<Announcement> FromEvent(const registry::Event& event) {
  const std::string where = "event " + std::to_string(event.seq);
  Announcement a;
  a.seq = event.seq;
  a.time = event.json.value("time", "");
  a.key_id = event.json.value("actor", "");
  const Json details = event.json.value("details", Json::object());
  GRAFT_ASSIGN_OR_RETURN(a.plan.run_id, JsonString(details, "run_id", where));
  GRAFT_ASSIGN_OR_RETURN(a.plan.base, JsonString(details, "base", where));
  GRAFT_ASSIGN_OR_RETURN(a.plan.policy, JsonString(details, "policy", where));
  a.plan.config = details.value("config", Json()).is_string() ? details["config"].get<std::string>()
                                                              : std::string();
  if (details.value("datasets", Json()).is_array()) {
    for (const Json& d : details["datasets"]) {
      if (d.is_string()) a.plan.datasets.push_back(d.get<std::string>());
    }
  }
  return a;
}

}  // namespace

Json Announcement::ToJson() const {
  return {{"seq", seq},
          {"time", time},
          {"key_id", key_id},
          {"run_id", plan.run_id},
          {"base", "sha256:" + plan.base},
          {"datasets", plan.datasets},
          {"config", plan.config.empty() ? Json() : Json("sha256:" + plan.config)},
          {"policy", "sha256:" + plan.policy}};
}

Result<Announcement> RunAnnouncements::Announce(RunPlan plan, const PrivateKey& trainer_key) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::KeyRecord> keys, registry_.Keys());
  bool trusted = false;
  for (const registry::KeyRecord& k : keys) {
    if (k.key_id != trainer_key.key_id()) continue;
    if (k.revoked_seq) {
      return VerificationFailed("key " + k.key_id + " was revoked at event " +
                                std::to_string(*k.revoked_seq) + "; it cannot announce a run");
    }
    trusted = trusted || k.role == "trainer";
  }
  if (!trusted) {
    return VerificationFailed("key " + trainer_key.key_id() +
                              " is not a trusted trainer key (graft key trust --role trainer)");
  }
  for (const std::string* digest : {&plan.base, &plan.policy}) {
    if (!IsDigest(*digest)) return InvalidInput("not a SHA-256 digest: \"" + *digest + "\"");
  }
  GRAFT_RETURN_IF_ERROR(registry_.Resolve("policy", plan.policy).status());
  std::sort(plan.datasets.begin(), plan.datasets.end());
  if (plan.run_id.empty()) {
    std::random_device device;
    uint8_t bytes[16];
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(device());
    plan.run_id = HexEncode(std::span<const uint8_t>(bytes, 16));
  }
  Json details = {{"run_id", plan.run_id},
                  {"base", plan.base},
                  {"datasets", plan.datasets},
                  {"policy", plan.policy}};
  if (!plan.config.empty()) details["config"] = plan.config;
  GRAFT_ASSIGN_OR_RETURN(uint64_t seq,
                         registry_.AppendEvent(std::string(kAction), details, &trainer_key));
  GRAFT_ASSIGN_OR_RETURN(registry::Event event, registry_.GetEvent(seq));
  return FromEvent(event);
}

Result<std::vector<Announcement>> RunAnnouncements::List(const std::string& policy_digest) {
  // The action is a fixed member of the canonical body: a LIKE pre-filter, then parsed.
  GRAFT_ASSIGN_OR_RETURN(
      registry::Statement s,
      registry_.db().Prepare(
          "SELECT seq FROM events WHERE body LIKE '%\"action\":\"run.announce\"%' "
          "ORDER BY seq"));
  std::vector<uint64_t> seqs;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    seqs.push_back(static_cast<uint64_t>(s.Int(0)));
  }
  std::vector<Announcement> out;
  for (uint64_t seq : seqs) {
    GRAFT_ASSIGN_OR_RETURN(registry::Event event, registry_.GetEvent(seq));
    if (event.json.value("action", "") != kAction) continue;
    GRAFT_ASSIGN_OR_RETURN(Announcement a, FromEvent(event));
    if (policy_digest.empty() || a.plan.policy == policy_digest) out.push_back(std::move(a));
  }
  return out;
}

Result<std::optional<Announcement>> RunAnnouncements::For(const registry::ObjectRecord& adapter) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::Edge> edges, registry_.EdgesFrom(adapter.digest));
  std::string base = adapter.Info().value("base", "");
  std::string policy;
  std::set<std::string> signers;
  std::vector<std::string> datasets;
  for (const registry::Edge& e : edges) {
    if (e.relation == "policy") policy = e.dst;
    if (e.relation == "signed_by") signers.insert(e.dst);
    if (e.relation.starts_with("dataset")) datasets.push_back(e.dst);
  }
  std::sort(datasets.begin(), datasets.end());
  datasets.erase(std::unique(datasets.begin(), datasets.end()), datasets.end());
  if (policy.empty()) return std::optional<Announcement>();
  GRAFT_ASSIGN_OR_RETURN(std::vector<Announcement> all, List(policy));
  std::optional<Announcement> found;
  for (Announcement& a : all) {
    std::vector<std::string> announced = a.plan.datasets;
    announced.erase(std::unique(announced.begin(), announced.end()), announced.end());
    if (a.seq < adapter.created_seq && a.plan.base == base && announced == datasets &&
        signers.contains(a.key_id)) {
      found = std::move(a);
    }
  }
  return found;
}

}  // namespace graft
