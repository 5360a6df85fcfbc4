#include "registry/provenance.h"

#include "core/intoto.h"

namespace graft::registry {

namespace {

constexpr std::string_view kRoles[] = {"base", "dataset", "parent_adapter", "config", "policy"};

bool IsHexDigest(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The trainer names dependencies "base", "dataset:train", "dataset:valid", "policy" (and
// "parent_adapter", "config"); an explicit annotations.role wins.
std::string RoleFromName(const std::string& name) {
  if (name.starts_with("dataset:") || name == "dataset") return "dataset";
  for (auto role : kRoles) {
    if (name == role) return std::string(role);
  }
  if (name == "parent") return "parent_adapter";
  return "";
}

}  // namespace

Result<Provenance> Provenance::Parse(std::string_view text, std::string_view source) {
  std::string src(source);
  auto bad = [&](const std::string& why) { return InvalidInput(src + ": " + why); };
  // JSON Lines: exactly one non-empty line holding the envelope.
  std::string_view line;
  size_t count = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view candidate = text.substr(start, end - start);
    if (candidate.find_first_not_of(" \t\r") != std::string_view::npos) {
      line = candidate;
      ++count;
    }
    start = end + 1;
  }
  if (count != 1) {
    return bad("expected exactly one DSSE envelope line, found " + std::to_string(count));
  }
  Provenance p;
  GRAFT_ASSIGN_OR_RETURN(p.envelope, DsseEnvelope::Parse(line, src));
  if (p.envelope.payload_type != kInTotoPayloadType) {
    return bad("payloadType is \"" + p.envelope.payload_type + "\", expected \"" +
               std::string(kInTotoPayloadType) + "\"");
  }
  GRAFT_ASSIGN_OR_RETURN(InTotoStatement statement,
                         InTotoStatement::Parse(p.envelope.payload, src + " payload"));
  if (statement.predicate_type != kSlsaProvenanceType) {
    return bad("predicateType is \"" + statement.predicate_type + "\", expected \"" +
               std::string(kSlsaProvenanceType) + "\"");
  }
  if (statement.subjects.size() != 1 || !statement.subjects[0].digest.contains("sha256")) {
    return bad("expected one subject with a sha256 digest (the adapter root digest)");
  }
  p.subject_digest = statement.subjects[0].digest.at("sha256");
  const Json& predicate = statement.predicate;
  auto build = predicate.find("buildDefinition");
  if (build == predicate.end() || !build->is_object()) return bad("missing buildDefinition");
  auto deps = build->find("resolvedDependencies");
  if (deps == build->end() || !deps->is_array()) {
    return bad("missing buildDefinition.resolvedDependencies");
  }
  for (const Json& dep : *deps) {
    std::string where = "resolvedDependencies[" + std::to_string(p.dependencies.size()) + "]";
    Dependency d;
    if (!dep.is_object()) return bad(where + ": expected an object");
    if (dep.contains("name") && dep["name"].is_string()) d.name = dep["name"].get<std::string>();
    auto annotations = dep.find("annotations");
    if (annotations != dep.end() && annotations->is_object() && annotations->contains("role") &&
        (*annotations)["role"].is_string()) {
      d.role = (*annotations)["role"].get<std::string>();
    } else {
      d.role = RoleFromName(d.name);
    }
    if (d.role.empty()) {
      return bad(where + ": cannot tell its role from name \"" + d.name +
                 "\" (base, dataset:<split>, parent_adapter, config, policy) or annotations.role");
    }
    bool known = false;
    for (auto role : kRoles) known = known || role == d.role;
    if (!known) return bad(where + ": unknown role \"" + d.role + "\"");
    auto digest = dep.find("digest");
    if (digest == dep.end() || !digest->is_object() || !digest->contains("sha256") ||
        !(*digest)["sha256"].is_string() || !IsHexDigest((*digest)["sha256"].get<std::string>())) {
      return bad(where + ": digest.sha256 must be 64 lowercase hex digits");
    }
    d.digest = (*digest)["sha256"].get<std::string>();
    p.dependencies.push_back(std::move(d));
  }
  if (!p.Find("base")) return bad("resolvedDependencies names no base (role \"base\")");
  if (auto internal = build->find("internalParameters");
      internal != build->end() && internal->is_object()) {
    p.internal_parameters = *internal;
  }
  if (auto external = build->find("externalParameters");
      external != build->end() && external->is_object()) {
    p.external_parameters = *external;
  }
  auto run = predicate.find("runDetails");
  if (run == predicate.end() || !run->is_object() || !run->contains("metadata") ||
      !(*run)["metadata"].is_object()) {
    return bad("missing runDetails.metadata");
  }
  const Json& metadata = (*run)["metadata"];
  GRAFT_ASSIGN_OR_RETURN(p.run_id,
                         JsonString(metadata, "invocationId", src + " runDetails.metadata"));
  GRAFT_ASSIGN_OR_RETURN(p.started_on,
                         JsonString(metadata, "startedOn", src + " runDetails.metadata"));
  return p;
}

std::optional<std::string> Provenance::Find(std::string_view role) const {
  for (const Dependency& d : dependencies) {
    if (d.role == role) return d.digest;
  }
  return std::nullopt;
}

Json Provenance::Summary() const {
  Json deps = Json::array();
  for (const Dependency& d : dependencies) {
    deps.push_back({{"role", d.role}, {"name", d.name}, {"digest", d.digest}});
  }
  return {{"run_id", run_id},
          {"started_on", started_on},
          {"internal_parameters", internal_parameters},
          {"dependencies", deps}};
}

}  // namespace graft::registry
