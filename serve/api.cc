#include "serve/api.h"

#include <cctype>

#include "core/encoding.h"
#include "core/sha256.h"
#include "policies/lifecycle.h"
#include "registry/event_log.h"
#include "registry/lineage.h"
#include "registry/merkle_tree.h"
#include "registry/vocabulary.h"
#include "serve/adapter_export.h"
#include "serve/adapter_query.h"
#include "serve/reference.h"

namespace graft::serve {
namespace {

constexpr std::string_view kPrefix = "/api/v1/";
constexpr uint64_t kMaxSeq = uint64_t{1} << 48;

std::string Param(const HttpRequest& request, const std::string& key) {
  auto it = request.query.find(key);
  return it == request.query.end() ? std::string() : it->second;
}

Json HexList(const std::vector<Digest>& digests) {
  Json out = Json::array();
  for (const Digest& d : digests) out.push_back(DigestHex(d));
  return out;
}

std::string Base64Of(const Digest& digest) {
  return Base64Encode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

// The latest signed checkpoint, its signature verified with the registry key.
struct LatestCheckpoint {
  std::string note;
  registry::Checkpoint checkpoint;
};
Result<LatestCheckpoint> ReadCheckpoint(registry::Registry& registry) {
  GRAFT_ASSIGN_OR_RETURN(std::string note, registry.LatestCheckpoint());
  GRAFT_ASSIGN_OR_RETURN(registry::Checkpoint checkpoint, registry.VerifyCheckpoint(note));
  return LatestCheckpoint{std::move(note), checkpoint};
}

// What a proof request names: `first` (the query parameter `first_key`, required) and `size`
// (`size_key`, default: the latest checkpoint's size), with the checkpoint and the log size.
struct ProofRequest {
  uint64_t first = 0;
  uint64_t size = 0;
  uint64_t log_size = 0;
  LatestCheckpoint latest;
};
Result<ProofRequest> ReadProofRequest(const HttpRequest& request, registry::Registry& registry,
                                      const std::string& first_key, const std::string& size_key) {
  ProofRequest out;
  GRAFT_ASSIGN_OR_RETURN(out.first, ParseCount(Param(request, first_key), first_key, kMaxSeq));
  GRAFT_ASSIGN_OR_RETURN(out.latest, ReadCheckpoint(registry));
  out.size = out.latest.checkpoint.size;
  if (!Param(request, size_key).empty()) {
    GRAFT_ASSIGN_OR_RETURN(out.size, ParseCount(Param(request, size_key), size_key, kMaxSeq));
  }
  GRAFT_ASSIGN_OR_RETURN(out.log_size, registry.LogSize());
  return out;
}

Result<HttpResponse> Inclusion(const HttpRequest& request, registry::Registry& registry) {
  GRAFT_ASSIGN_OR_RETURN(ProofRequest asked, ReadProofRequest(request, registry, "seq", "size"));
  const uint64_t seq = asked.first, size = asked.size;
  const LatestCheckpoint& latest = asked.latest;
  if (size == 0 || size > asked.log_size) {
    return InvalidInput("size must be 1 to the log size " + std::to_string(asked.log_size));
  }
  if (seq >= size) {
    return NotFound("no event " + std::to_string(seq) + " in a tree of " + std::to_string(size));
  }
  GRAFT_ASSIGN_OR_RETURN(registry::InclusionProof proof, registry.ProveInclusion(seq, size));
  const bool verified =
      registry::VerifyInclusion(proof.leaf_hash, proof.index, proof.size, proof.path, proof.root);
  Json out = {{"seq", proof.index},
              {"size", proof.size},
              {"leaf_hash", DigestHex(proof.leaf_hash)},
              {"path", HexList(proof.path)},
              {"root", DigestHex(proof.root)},
              {"root_base64", Base64Of(proof.root)},
              {"verified", verified}};
  if (size == latest.checkpoint.size) {
    out["checkpoint"] = latest.note;
    out["matches_checkpoint"] = proof.root == latest.checkpoint.root;
  }
  return JsonResponse(out);
}

Result<HttpResponse> Consistency(const HttpRequest& request, registry::Registry& registry) {
  GRAFT_ASSIGN_OR_RETURN(ProofRequest asked, ReadProofRequest(request, registry, "old", "new"));
  const uint64_t old_size = asked.first, new_size = asked.size;
  const LatestCheckpoint& latest = asked.latest;
  if (old_size == 0 || old_size > new_size || new_size > asked.log_size) {
    return InvalidInput("need 1 <= old <= new <= the log size " + std::to_string(asked.log_size));
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<Digest> path, registry.ProveConsistency(old_size, new_size));
  GRAFT_ASSIGN_OR_RETURN(Digest old_root, registry.LogRoot(old_size));
  GRAFT_ASSIGN_OR_RETURN(Digest new_root, registry.LogRoot(new_size));
  Json out = {
      {"old_size", old_size},
      {"new_size", new_size},
      {"old_root", DigestHex(old_root)},
      {"new_root", DigestHex(new_root)},
      {"path", HexList(path)},
      {"verified", registry::VerifyConsistency(old_size, new_size, old_root, new_root, path)}};
  if (new_size == latest.checkpoint.size) out["checkpoint"] = latest.note;
  return JsonResponse(out);
}

Result<HttpResponse> Resolve(const HttpRequest& request, registry::Registry& registry) {
  const std::string kind = Param(request, "kind");
  // Any kind but the evaluator's scores, which are not looked up by name.
  if (!kind.empty() && (!registry::IsObjectKind(kind) || kind == registry::kScoresKind)) {
    return InvalidInput("kind must be adapter, base, dataset, suite, policy, config or run");
  }
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord record,
                         ResolveReference(registry, kind, Param(request, "ref")));
  return JsonResponse(
      {{"ref", Param(request, "ref")},
       {"digest", "sha256:" + record.digest},
       {"kind", record.kind},
       {"stage", record.stage ? Json(*record.stage)
                              : Json(record.kind == registry::kAdapterKind ? "candidate" : "")},
       {"labels", record.labels},
       {"revoked", record.revoked_seq.has_value()}});
}

Result<HttpResponse> Event(uint64_t seq, registry::Registry& registry) {
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, registry.LogSize());
  if (seq >= size) return NotFound("no event " + std::to_string(seq));
  GRAFT_ASSIGN_OR_RETURN(registry::Event event, registry.GetEvent(seq));
  return JsonResponse({{"seq", seq},
                       {"body", event.body},
                       {"event", event.json},
                       {"leaf_hash", DigestHex(registry::MerkleLeafHash(event.body))}});
}

// A ref followed by one of the sub-resources, split at the last '/'.
std::pair<std::string, std::string> SplitSubresource(const std::string& rest) {
  const size_t slash = rest.rfind('/');
  if (slash != std::string::npos) {
    const std::string tail = rest.substr(slash + 1);
    if (tail == "lineage" || tail == "decisions" || tail == "export") {
      return {rest.substr(0, slash), tail};
    }
  }
  return {rest, ""};
}

}  // namespace

HttpResponse JsonResponse(const Json& json, int status) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  response.body = json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  return response;
}

HttpResponse ErrorResponse(const Status& status) {
  return JsonResponse({{"error", status.message()}, {"kind", ErrorKindName(status.kind())}},
                      HttpStatusFor(status));
}

HttpResponse Api::Handle(const HttpRequest& request) {
  Result<RegistryPool::Lease> registry = context_.pool.Acquire();
  if (!registry.ok()) return ErrorResponse(registry.status());
  Result<HttpResponse> response = Route(request, **registry);
  if (!response.ok()) return ErrorResponse(response.status());
  if (response->stream) {
    // A streamed body reads the registry after Handle returns: it keeps the connection.
    auto lease = std::make_shared<RegistryPool::Lease>(std::move(*registry));
    response->stream = [lease, stream = std::move(response->stream)](const BodyWriter& write) {
      return stream(write);
    };
  }
  return std::move(response).value();
}

Result<HttpResponse> Api::Route(const HttpRequest& request, registry::Registry& registry) {
  const std::string route = request.path.substr(kPrefix.size());
  if (route == "resolve") return Resolve(request, registry);
  if (route == "checkpoint") {
    GRAFT_ASSIGN_OR_RETURN(LatestCheckpoint latest, ReadCheckpoint(registry));
    HttpResponse response;
    response.content_type = "text/plain; charset=utf-8";
    response.body = latest.note;
    return response;
  }
  if (route == "proofs/inclusion") return Inclusion(request, registry);
  if (route == "proofs/consistency") return Consistency(request, registry);
  if (route.starts_with("log/")) {
    GRAFT_ASSIGN_OR_RETURN(uint64_t seq, ParseCount(route.substr(4), "event number", kMaxSeq));
    return Event(seq, registry);
  }
  if (route == "audit") {
    GRAFT_ASSIGN_OR_RETURN(AuditOutcome outcome, context_.audit.Run(context_.pool));
    if (!outcome.ran) {
      HttpResponse response =
          JsonResponse({{"error", "an audit ran less than the rate limit ago; retry later"},
                        {"latest", outcome.report ? outcome.report->ToJson() : Json()},
                        {"latest_time", outcome.time}},
                       429);
      response.headers.push_back({"Retry-After", std::to_string(outcome.retry_after_seconds)});
      return response;
    }
    Json out = outcome.report->ToJson();
    out["time"] = outcome.time;
    return JsonResponse(out);
  }
  if (route == "adapters") {
    GRAFT_ASSIGN_OR_RETURN(AdapterQuery query, AdapterQuery::FromParameters(request.query));
    GRAFT_ASSIGN_OR_RETURN(AdapterPage page, query.Run(registry));
    Json rows = Json::array();
    for (const AdapterRow& row : page.rows) rows.push_back(row.ToJson());
    return JsonResponse({{"total", page.total},
                         {"page", page.page},
                         {"per_page", page.per_page},
                         {"adapters", rows}});
  }
  if (route.starts_with("adapters/")) {
    auto [ref, what] = SplitSubresource(route.substr(9));
    return Adapter(ref, what, request, registry);
  }
  if (route.starts_with("objects/")) {
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord record,
                           ResolveReference(registry, "", route.substr(8)));
    return JsonResponse(record.ToJson());
  }
  return NotFound("no API route " + request.path + " (see docs/openapi.yaml)");
}

Result<HttpResponse> Api::Adapter(const std::string& ref, const std::string& what,
                                  const HttpRequest& request, registry::Registry& registry) {
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord adapter,
                         ResolveReference(registry, registry::kAdapterKind, ref));
  if (what == "lineage") {
    const std::string direction = Param(request, "direction");
    if (!direction.empty() && direction != "of" && direction != "uses") {
      return InvalidInput("direction must be of or uses");
    }
    GRAFT_ASSIGN_OR_RETURN(registry::Lineage lineage,
                           direction == "uses" ? registry::Lineage::Uses(registry, adapter.digest)
                                               : registry::Lineage::Of(registry, adapter.digest));
    return JsonResponse(lineage.ToJson());
  }
  policies::Lifecycle lifecycle(registry);
  if (what == "decisions") {
    GRAFT_ASSIGN_OR_RETURN(Json described, lifecycle.Describe(adapter));
    return JsonResponse({{"digest", "sha256:" + adapter.digest},
                         {"decisions", described["decisions"]},
                         {"approvals", described["approvals"]}});
  }
  if (what == "export") {
    GRAFT_ASSIGN_OR_RETURN(AdapterExport archive, AdapterExport::Prepare(registry, adapter));
    std::string name =
        adapter.labels.empty() ? adapter.digest.substr(0, 12) : adapter.DisplayName();
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_') c = '-';
    }
    HttpResponse response;
    response.content_type = "application/x-tar";
    response.stream_length = archive.size();
    response.stream = [&registry, archive = std::move(archive)](const BodyWriter& write) {
      return archive.Write(registry, write);
    };
    response.headers.push_back(
        {"Content-Disposition", "attachment; filename=\"" + name + ".tar\""});
    response.headers.push_back({"X-Graft-Digest", "sha256:" + adapter.digest});
    return response;
  }
  Json out = adapter.ToJson();
  GRAFT_ASSIGN_OR_RETURN(Json described, lifecycle.Describe(adapter));
  out["stage"] = described["stage"];
  out["channels"] = described["channels"];
  out["decisions"] = described["decisions"];
  out["approvals"] = described["approvals"];
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::Revocation> revocations,
                         registry.Revocations(adapter));
  Json revoked = Json::array();
  for (const registry::Revocation& r : revocations) revoked.push_back(r.Describe());
  out["revocations"] = revoked;
  GRAFT_ASSIGN_OR_RETURN(registry::Annotations annotations,
                         registry.AdapterAnnotations(adapter.digest));
  out.update(annotations.ToJson());
  return JsonResponse(out);
}

}  // namespace graft::serve
