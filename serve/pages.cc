#include "serve/pages.h"

#include <set>

#include "core/sha256.h"
#include "registry/event_log.h"
#include "registry/lineage.h"
#include "registry/merkle_tree.h"
#include "registry/vocabulary.h"
#include "report_builder/adapter_report_builder.h"
#include "report_builder/registry_names.h"
#include "reports/html_report.h"
#include "serve/adapter_query.h"
#include "serve/html.h"
#include "serve/log_follower.h"
#include "serve/page_key.h"
#include "serve/reference.h"

namespace graft::serve {
namespace {

constexpr uint64_t kEventsPerPage = 100;
constexpr uint64_t kMaxScannedEvents = 20'000;  // per log page with filters
constexpr size_t kMaxDependents = 500;          // adapters listed on an object's page
constexpr uint64_t kMaxSeq = uint64_t{1} << 48;

// The kinds with a list page, by URL.
const std::map<std::string, std::string>& ListedKinds() {
  static const std::map<std::string, std::string> kinds = {
      {"/bases", "base"}, {"/datasets", "dataset"}, {"/suites", "suite"}, {"/policies", "policy"}};
  return kinds;
}

std::string Param(const HttpRequest& request, const std::string& key) {
  auto it = request.query.find(key);
  return it == request.query.end() ? std::string() : it->second;
}

std::string Mono(std::string_view text) { return "<span class=\"mono\">" + Text(text) + "</span>"; }

std::string ErrorPage(const Status& status) {
  return Page("Error " + std::to_string(HttpStatusFor(status)),
              "<p class=\"failed\" id=\"error\">" + Text(status.message()) + "</p>\n");
}

// A link to an object's page: adapters to theirs, others to /objects.
std::string ObjectLink(const std::string& kind, const std::string& digest,
                       const std::string& text) {
  return Link(kind == registry::kAdapterKind ? AdapterHref(digest) : ObjectHref(digest), text);
}

std::string Option(std::string_view value, std::string_view selected) {
  return "<option value=\"" + Attr(value) + "\"" + (value == selected ? " selected" : "") + ">" +
         Text(value.empty() ? "any" : value) + "</option>";
}

std::string Select(std::string_view label, std::string_view name,
                   const std::vector<std::string_view>& values, std::string_view selected) {
  std::string out = "<label>" + Text(label) + "<select name=\"" + Attr(name) + "\">";
  for (std::string_view v : values) out += Option(v, selected);
  return out + "</select></label>";
}

std::string Input(std::string_view label, std::string_view name, std::string_view value) {
  return "<label>" + Text(label) + "<input type=\"text\" name=\"" + Attr(name) + "\" value=\"" +
         Attr(value) + "\"/></label>";
}

std::string Revoked(const std::optional<uint64_t>& seq, const std::string& reason) {
  if (!seq) return "";
  return "<span class=\"failed\">revoked at " +
         Link(EventHref(*seq), "event " + std::to_string(*seq)) + "</span> " + Text(reason);
}

}  // namespace

HttpResponse Pages::Handle(const HttpRequest& request) { return *Serve(request, true); }

std::optional<HttpResponse> Pages::Cached(const HttpRequest& request) {
  return Serve(request, false);
}

std::optional<HttpResponse> Pages::Serve(const HttpRequest& request, bool build) {
  Result<RegistryPool::Lease> registry = context_.pool.Acquire();
  Result<std::optional<HttpResponse>> response =
      registry.ok() ? Serve(request, **registry, build)
                    : Result<std::optional<HttpResponse>>(registry.status());
  if (response.ok()) return std::move(response).value();
  HttpResponse error;
  error.status = HttpStatusFor(response.status());
  error.body = ErrorPage(response.status());
  return error;
}

Result<size_t> Pages::WarmUp(size_t count, std::stop_token stop) {
  if (count == 0 || !context_.pages.enabled()) return size_t{0};
  GRAFT_ASSIGN_OR_RETURN(RegistryPool::Lease registry, context_.pool.Acquire());
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, registry->LogSize());
  std::vector<std::string> adapters;
  std::set<std::string> seen;
  const std::string prefix = ObjectTopic("");  // "object <hex>"
  constexpr uint64_t kMaxWarmUpEvents = 10'000;
  for (uint64_t seq = size; seq > 0 && size - seq < kMaxWarmUpEvents && adapters.size() < count;) {
    GRAFT_ASSIGN_OR_RETURN(registry::Event event, registry->GetEvent(--seq));
    for (const std::string& topic : EventTopics(event.json)) {
      if (!topic.starts_with(prefix) || !seen.insert(topic).second) continue;
      Result<registry::ObjectRecord> record = registry->Get(topic.substr(prefix.size()));
      if (record.ok() && record->kind == "adapter" && adapters.size() < count) {
        adapters.push_back(record->digest);
      }
    }
  }
  size_t built = 0;
  for (const std::string& digest : adapters) {
    if (stop.stop_requested()) break;
    HttpRequest request;
    request.method = "GET";
    request.path = "/adapters/sha256:" + digest;  // decoded, as a request's path is
    GRAFT_ASSIGN_OR_RETURN(std::optional<HttpResponse> response, Serve(request, *registry, true));
    if (response && response->status == 200) ++built;
  }
  return built;
}

Result<std::optional<HttpResponse>> Pages::Serve(const HttpRequest& request,
                                                 registry::Registry& registry, bool build) {
  PageCache& cache = context_.pages;
  GRAFT_ASSIGN_OR_RETURN(LogState log, ReadLogState(registry));
  // A grown log carries the kept pages its new events do not touch to the new head.
  if (cache.enabled()) GRAFT_RETURN_IF_ERROR(context_.follower.Observe(registry, log, cache));
  // Adapter and object pages' keys are remembered per path (the others' are the path itself).
  const bool object_page =
      request.path.starts_with("/adapters/") || request.path.starts_with("/objects/");
  std::optional<PageKey> key;
  if (object_page && cache.enabled()) key = context_.keys.Find(request.path, log);
  if (!key) {
    GRAFT_ASSIGN_OR_RETURN(key, KeyFor(request, registry));
    if (key && object_page && cache.enabled()) context_.keys.Store(request.path, log, *key);
  }
  std::vector<std::string> topics;
  if (!key) {
    if (!build) return std::optional<HttpResponse>();
    HttpResponse response;
    GRAFT_ASSIGN_OR_RETURN(response.body, Route(request, registry, topics));
    return std::optional<HttpResponse>(std::move(response));
  }
  const bool force = Param(request, "verify") == "1";
  if (force && !build) return std::optional<HttpResponse>();
  int rate_limited = 0;
  const bool forced = force && cache.MayForce(key->key, rate_limited);
  auto cached = [&]() -> std::optional<HttpResponse> {
    std::shared_ptr<const CachedPage> page = cache.Find(key->key, log);
    if (page == nullptr) return std::nullopt;
    HttpResponse response;
    response.body = cache.Render(*page, false, key->self, rate_limited, log.size);
    response.headers.push_back({"X-Graft-Verified-At", page->built_utc});
    response.log_note = "cached";
    return response;
  };
  if (!forced) {
    if (std::optional<HttpResponse> response = cached()) return response;
  }
  if (!build) return std::optional<HttpResponse>();
  // Concurrent requests for one page not kept yet: one builds it, the others wait for it and
  // serve it from the cache.
  struct Lead {
    PageCache* cache = nullptr;
    std::string key;
    ~Lead() {
      if (cache != nullptr) cache->EndBuild(key);
    }
  } lead;
  if (!forced && cache.enabled()) {
    std::shared_future<void> running = cache.JoinBuild(key->key);
    if (running.valid()) {
      running.wait();
      if (std::optional<HttpResponse> response = cached()) return response;
    } else {
      lead.cache = &cache;
      lead.key = key->key;
    }
  }
  // Stamped before the build: a file changed while it runs is seen as changed by the next request.
  auto page = std::make_shared<CachedPage>();
  page->log = log;
  page->built = std::chrono::steady_clock::now();
  page->built_utc = registry::EventLog::Now();
  for (std::filesystem::path& file : key->files) {
    FileStamp stamp = StampFile(file);
    page->files.emplace_back(std::move(file), stamp);
  }
  page->topics = std::move(key->topics);
  GRAFT_ASSIGN_OR_RETURN(page->html, Route(request, registry, page->topics));
  HttpResponse response;
  if (page->html.size() > context_.max_response_bytes) {
    response.status = 413;
    response.body = ErrorPage(
        InvalidInput("the page is larger than this server's limit; narrow it with filters"));
    return std::optional<HttpResponse>(std::move(response));
  }
  response.body = cache.Render(*page, true, key->self, rate_limited, page->log.size);
  response.headers.push_back({"X-Graft-Verified-At", page->built_utc});
  response.log_note = "built";
  cache.Store(key->key, std::move(page));
  return std::optional<HttpResponse>(std::move(response));
}

Result<std::string> Pages::Route(const HttpRequest& request, registry::Registry& registry,
                                 std::vector<std::string>& topics) {
  const std::string& path = request.path;
  if (path == "/") return Home(registry);
  if (path == "/adapters") return Adapters(request, registry);
  if (path.starts_with("/adapters/")) return Adapter(path.substr(10), registry, topics);
  if (auto kind = ListedKinds().find(path); kind != ListedKinds().end()) {
    return Objects(kind->second, registry);
  }
  if (path.starts_with("/objects/")) return Object(path.substr(9), registry, topics);
  if (path == "/keys") return Keys(registry);
  if (path == "/channels") return Channels(registry);
  if (path.starts_with("/channels/")) return Channel(path.substr(10), registry, topics);
  if (path == "/log") return Log(request, registry);
  if (path.starts_with("/log/")) return Event(path.substr(5), registry);
  if (path == "/checkpoint") return Checkpoint(registry);
  if (path == "/audit") return Audit(request);
  return NotFound("no page " + path);
}

Result<std::string> Pages::Home(registry::Registry& registry) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& [href, kind] :
       std::vector<std::pair<std::string, std::string>>{{"/adapters", "adapter"},
                                                        {"/bases", "base"},
                                                        {"/datasets", "dataset"},
                                                        {"/suites", "suite"},
                                                        {"/policies", "policy"}}) {
    GRAFT_ASSIGN_OR_RETURN(std::vector<registry::ObjectRecord> objects,
                           registry.List({.kind = kind, .with_info = false}));
    rows.push_back({Link(href, kind + "s"), std::to_string(objects.size())});
  }
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, registry.LogSize());
  rows.push_back({Link("/log", "log events"), std::to_string(size)});
  return Page("Registry " + registry.origin(),
              "<p>Read-only view of the registry at <span class=\"mono\">" +
                  Text(registry.dir().string()) + "</span>.</p>\n" +
                  Table({"objects", "count"}, rows, "counts") +
                  "<p>JSON API: <span class=\"mono\">/api/v1/</span> (docs/openapi.yaml).</p>\n");
}

Result<std::string> Pages::Adapters(const HttpRequest& request, registry::Registry& registry) {
  GRAFT_ASSIGN_OR_RETURN(AdapterQuery query, AdapterQuery::FromParameters(request.query));
  GRAFT_ASSIGN_OR_RETURN(AdapterPage page, query.Run(registry));
  std::string body =
      "<form class=\"filters\" method=\"get\" action=\"/adapters\">" +
      Input("search", "q", query.q) + Input("name", "name", query.name) +
      Input("base", "base", query.base) +
      Select("stage", "stage",
             {"", "candidate", "staging", "production", "retired", "rejected", "revoked"},
             query.stage) +
      Input("channel", "channel", query.channel) +
      Select("last verdict", "verdict", {"", "pass", "fail", "inconclusive", "none"},
             query.verdict) +
      Input("tag (KEY or KEY=VALUE)", "tag", query.tag) +
      "<button type=\"submit\">Filter</button></form>\n";
  std::vector<std::vector<std::string>> rows;
  for (const AdapterRow& row : page.rows) {
    std::string channels;
    for (const std::string& c : row.channels) {
      channels += (channels.empty() ? "" : " ") + Link("/channels/" + UrlEncode(c), c);
    }
    std::string tags;
    for (const auto& [key, value] : row.tags) {
      const std::string pair = key + "=" + value;
      tags += (tags.empty() ? "" : " ") + Link("/adapters?tag=" + UrlEncode(pair), pair);
    }
    rows.push_back(
        {Link(AdapterHref(row.digest), row.label.empty() ? Short(row.digest) : row.label),
         Mono(Short(row.digest)),
         row.base.empty() ? "" : Link(ObjectHref(row.base), row.base_label),
         Text(row.stage) + (row.revoked ? " <span class=\"failed\">revoked</span>" : ""), channels,
         VerdictBadge(row.verdict), tags,
         Link(EventHref(row.created_seq), std::to_string(row.created_seq))});
  }
  const uint64_t pages = (page.total + page.per_page - 1) / page.per_page;
  body += "<p id=\"total\">" + std::to_string(page.total) + " adapter(s), page " +
          std::to_string(page.page) + " of " + std::to_string(std::max<uint64_t>(pages, 1)) +
          "</p>\n";
  body += Table(
      {"adapter", "digest", "base", "stage", "channels", "last verdict", "tags", "registered at"},
      rows, "adapters");
  body += "<p class=\"pages\">";
  if (page.page > 1) body += Link("/adapters" + query.ToQueryString(page.page - 1), "« previous");
  if (page.page < pages) body += Link("/adapters" + query.ToQueryString(page.page + 1), "next »");
  return Page("Adapters", body + "</p>\n");
}

Result<std::string> Pages::Adapter(const std::string& ref, registry::Registry& registry,
                                   std::vector<std::string>& topics) {
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord adapter,
                         ResolveReference(registry, "adapter", ref));
  // What the report shows and verifies: the adapter, every object of its lineage (base,
  // parents, datasets, policy, suites, attestations), its channels, the adapters built on it,
  // and the signatures it re-checks against the trusted keys.
  topics.push_back(ObjectTopic(adapter.digest));
  topics.push_back(std::string(kKeysTopic));
  GRAFT_ASSIGN_OR_RETURN(std::shared_ptr<const report_builder::VerifiedLog> log,
                         context_.log.Get(registry));
  report_builder::AdapterReportBuilder builder(registry, std::move(log));
  GRAFT_ASSIGN_OR_RETURN(reports::AdapterReportData report,
                         builder.Build("sha256:" + adapter.digest));
  std::string related = "<section id=\"related\">\n<h2>Related objects</h2>\n";
  std::vector<std::vector<std::string>> rows;
  for (const reports::LineageNode& node : report.lineage.nodes) {
    const std::string hex =
        node.digest.starts_with("sha256:") ? node.digest.substr(7) : node.digest;
    if (!hex.empty()) topics.push_back(ObjectTopic(hex));
    if (node.digest.empty() || node.kind == reports::LineageNodeKind::kAdapter) continue;
    Result<registry::ObjectRecord> object = registry.Get(hex);
    if (!object.ok()) continue;  // attestations have no page of their own
    rows.push_back({Text(reports::LineageNodeKindName(node.kind)),
                    ObjectLink(object->kind, object->digest, node.label), Mono(Short(hex))});
  }
  for (const std::string& channel : report.identity.channels) {
    topics.push_back(ChannelTopic(channel));
    rows.push_back({"channel", Link("/channels/" + UrlEncode(channel), channel), ""});
  }
  related += Table({"relation", "object", "digest"}, rows, "related-objects");
  GRAFT_ASSIGN_OR_RETURN(registry::Lineage uses, registry::Lineage::Uses(registry, adapter.digest));
  std::vector<std::vector<std::string>> dependents;
  for (const auto& [id, node] : uses.nodes()) {
    if (id == adapter.digest || node.kind != registry::kAdapterKind) continue;
    topics.push_back(ObjectTopic(id));
    dependents.push_back({Link(AdapterHref(id), node.label), Mono(Short(id))});
  }
  related += "<h3>Adapters built on this one</h3>\n" +
             (dependents.empty() ? std::string("<p>none</p>\n")
                                 : Table({"adapter", "digest"}, dependents, "dependents"));
  std::string events;
  for (const reports::LogEntry& entry : report.log) {
    events += (events.empty() ? "" : " ") +
              Link(EventHref(static_cast<uint64_t>(entry.seq)), std::to_string(entry.seq));
  }
  const std::string api = "/api/v1/adapters/" + UrlEncode("sha256:" + adapter.digest);
  related += "<p>Log events: " + events + "</p>\n<p>JSON: " + Link(api, "record") + " · " +
             Link(api + "/lineage", "lineage") + " · " + Link(api + "/decisions", "decisions") +
             " · " + Link(api + "/export", "verified export (tar)") + "</p>\n</section>\n";

  std::string html = reports::RenderAdapterHtml(report);
  const size_t head = html.find("</head>");
  const size_t body = html.find("<body>");
  const size_t main_end = html.rfind("</main>");
  if (head == std::string::npos || body == std::string::npos || main_end == std::string::npos) {
    return InternalError("the adapter report has no <head>, <body> or <main>");
  }
  html.insert(main_end, related);
  constexpr std::string_view kHeading = "<h2>Verification</h2>";
  const size_t verification = html.find(kHeading);
  html.insert(verification == std::string::npos ? main_end : verification + kHeading.size(),
              kVerificationMarker);
  html.insert(body + 6, "\n" + Navigation());
  html.insert(head, "<style>" + NavigationStyle() + "</style>\n");
  return html;
}

Result<std::string> Pages::Objects(const std::string& kind, registry::Registry& registry) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::ObjectRecord> objects,
                         registry.List({.kind = kind, .with_info = false}));
  std::vector<std::vector<std::string>> rows;
  for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
    std::string labels;
    for (const std::string& label : it->labels) labels += (labels.empty() ? "" : ", ") + label;
    rows.push_back({Link(ObjectHref(it->digest), it->DisplayName()), Text(labels),
                    Mono(Short(it->digest)),
                    Link(EventHref(it->created_seq), std::to_string(it->created_seq)),
                    Revoked(it->revoked_seq, it->revoke_reason)});
  }
  return Page(
      kind == registry::kPolicyKind
          ? "Policies"
          : std::string(1, static_cast<char>(kind[0] - 32)) + kind.substr(1) + "s",
      Table({"name", "versions", "digest", "entered the log at", "revocation"}, rows, "objects"));
}

Result<std::string> Pages::Object(const std::string& ref, registry::Registry& registry,
                                  std::vector<std::string>& topics) {
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord object, ResolveReference(registry, "", ref));
  if (object.kind == registry::kAdapterKind) {
    return Adapter("sha256:" + object.digest, registry, topics);
  }
  // The object, and the adapters depending on it (their revocation is shown).
  topics.push_back(ObjectTopic(object.digest));
  std::string labels;
  for (const std::string& label : object.labels) labels += (labels.empty() ? "" : ", ") + label;
  std::vector<std::vector<std::string>> facts = {
      {"kind", Text(object.kind)},
      {"digest", Mono("sha256:" + object.digest)},
      {"versions", Text(labels)},
      {"entered the log at",
       Link(EventHref(object.created_seq), "event " + std::to_string(object.created_seq))},
      {"revocation",
       object.revoked_seq ? Revoked(object.revoked_seq, object.revoke_reason) : "not revoked"}};
  std::string body = Table({"", ""}, facts, "facts");
  if (object.kind == registry::kPolicyKind || object.kind == registry::kSuiteKind ||
      object.kind == registry::kConfigKind) {
    GRAFT_ASSIGN_OR_RETURN(std::string content, registry.ReadBlob(object.digest));
    body += "<h2>Content</h2>\n<p>Re-hashed from the blob store: it matches the digest.</p>\n" +
            std::string(kVerificationMarker) + "<pre id=\"content\">" +
            Text(content.substr(0, 256 * 1024)) + "</pre>\n";
  }
  body += "<h2>Recorded information</h2>\n<pre id=\"info\">" +
          Text(object.Info().dump(2, ' ', false, Json::error_handler_t::replace)) + "</pre>\n";
  GRAFT_ASSIGN_OR_RETURN(registry::Lineage uses, registry::Lineage::Uses(registry, object.digest));
  std::vector<std::vector<std::string>> dependents;
  size_t adapters = 0;
  for (const auto& [id, node] : uses.nodes()) {
    if (node.kind != registry::kAdapterKind) continue;
    topics.push_back(ObjectTopic(id));
    if (++adapters > kMaxDependents) continue;
    dependents.push_back({Link(AdapterHref(id), node.label), Mono(Short(id)),
                          node.revoked ? "<span class=\"failed\">revoked</span>" : ""});
  }
  body += "<h2>Adapters " +
          std::string(object.kind == registry::kPolicyKind ? "governed by it" : "depending on it") +
          " (" + std::to_string(adapters) + ")</h2>\n" +
          Table({"adapter", "digest", ""}, dependents, "dependents");
  if (adapters > kMaxDependents) {
    body += "<p>The first " + std::to_string(kMaxDependents) + " are listed.</p>\n";
  }
  return Page(object.kind + " " + object.DisplayName(), body);
}

Result<std::string> Pages::Keys(registry::Registry& registry) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::KeyRecord> keys, registry.Keys());
  std::vector<std::vector<std::string>> rows;
  for (const registry::KeyRecord& key : keys) {
    rows.push_back({Text(key.name), Text(key.role), Mono(key.key_id), Text(key.algorithm),
                    Link(EventHref(key.trusted_seq), std::to_string(key.trusted_seq)),
                    key.revoked_seq ? Revoked(key.revoked_seq, key.revoke_reason) : "trusted"});
  }
  return Page("Keys and roles",
              Table({"name", "role", "key id", "algorithm", "trusted at", "status"}, rows, "keys"));
}

Result<std::string> Pages::Channels(registry::Registry& registry) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::ChannelEntry> channels, registry.Channels());
  std::vector<std::vector<std::string>> rows;
  for (const registry::ChannelEntry& c : channels) {
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord adapter, registry.Get(c.digest));
    rows.push_back({Link("/channels/" + UrlEncode(c.channel), c.channel),
                    Link(AdapterHref(c.digest), adapter.DisplayName()),
                    Link(EventHref(c.seq), std::to_string(c.seq)), Text(c.reason)});
  }
  return Page("Channels", Table({"channel", "serves", "since event", "reason"}, rows, "channels"));
}

Result<std::string> Pages::Channel(const std::string& name, registry::Registry& registry,
                                   std::vector<std::string>& topics) {
  GRAFT_RETURN_IF_ERROR(CheckChannelName(name));
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::ChannelEntry> history,
                         registry.ChannelHistory(name));
  if (history.empty()) return NotFound("no channel " + name);
  GRAFT_ASSIGN_OR_RETURN(report_builder::RegistryNames names,
                         report_builder::RegistryNames::Load(registry));
  std::vector<std::vector<std::string>> rows;
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    topics.push_back(ObjectTopic(it->digest));  // its label is shown
    GRAFT_ASSIGN_OR_RETURN(registry::Event event, registry.GetEvent(it->seq));
    const Json details = event.json.value("details", Json::object());
    std::string decision;
    for (const char* key : {"decision", "gate_decision"}) {
      if (details.is_object() && details.contains(key) && details[key].is_string()) {
        decision += Mono(details[key].get<std::string>()) + " ";
      }
    }
    rows.push_back(
        {Link(EventHref(it->seq), std::to_string(it->seq)), Text(event.json.value("time", "")),
         Text(event.json.value("action", "")), Text(names.Actor(event.json.value("actor", ""))),
         Link(AdapterHref(it->digest), names.Object(it->digest)), Text(it->reason), decision});
  }
  return Page(
      "Channel " + name,
      Table({"event", "time", "action", "by", "adapter", "reason", "decision"}, rows, "history"));
}

Result<std::string> Pages::Log(const HttpRequest& request, registry::Registry& registry) {
  const std::string action = Param(request, "action");
  const std::string actor = Param(request, "actor");
  const std::string q = Param(request, "q");
  for (const std::string* value : {&action, &actor, &q}) {
    if (value->size() > 256) return InvalidInput("filters are at most 256 bytes");
  }
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, registry.LogSize());
  uint64_t before = size;
  if (!Param(request, "before").empty()) {
    GRAFT_ASSIGN_OR_RETURN(before, ParseCount(Param(request, "before"), "before", kMaxSeq));
    before = std::min(before, size);
  }
  std::vector<std::vector<std::string>> rows;
  uint64_t seq = before, scanned = 0, last = before;
  while (seq > 0 && rows.size() < kEventsPerPage && scanned < kMaxScannedEvents) {
    --seq;
    ++scanned;
    GRAFT_ASSIGN_OR_RETURN(registry::Event event, registry.GetEvent(seq));
    const std::string event_action = event.json.value("action", "");
    const std::string event_actor = event.json.value("actor", "");
    if (!action.empty() && !event_action.starts_with(action)) continue;
    if (!actor.empty() && event_actor.find(actor) == std::string::npos) continue;
    if (!q.empty() && event.body.find(q) == std::string::npos) continue;
    std::string details = event.json.contains("details") ? event.json["details"].dump() : "";
    if (details.size() > 300) details = details.substr(0, 300) + "…";
    rows.push_back({Link(EventHref(seq), std::to_string(seq)), Text(event.json.value("time", "")),
                    Text(event_action), Text(event_actor), Mono(details)});
    last = seq;
  }
  std::string body = "<form class=\"filters\" method=\"get\" action=\"/log\">" +
                     Input("action (prefix)", "action", action) + Input("actor", "actor", actor) +
                     Input("contains", "q", q) + "<button type=\"submit\">Filter</button></form>\n";
  body += "<p id=\"total\">" + std::to_string(size) + " events in the log; showing " +
          std::to_string(rows.size()) + " of the " + std::to_string(scanned) +
          " read, newest first.</p>\n";
  body += Table({"event", "time", "action", "actor", "details"}, rows, "events");
  if (seq > 0) {
    const uint64_t next = rows.size() < kEventsPerPage ? seq : last;
    body += "<p class=\"pages\">" +
            Link("/log?action=" + UrlEncode(action) + "&actor=" + UrlEncode(actor) +
                     "&q=" + UrlEncode(q) + "&before=" + std::to_string(next),
                 "older events »") +
            "</p>\n";
  }
  return Page("Event log", body);
}

Result<std::string> Pages::Event(const std::string& seq_text, registry::Registry& registry) {
  GRAFT_ASSIGN_OR_RETURN(uint64_t seq, ParseCount(seq_text, "event number", kMaxSeq));
  GRAFT_ASSIGN_OR_RETURN(std::string note, registry.LatestCheckpoint());
  GRAFT_ASSIGN_OR_RETURN(registry::Checkpoint checkpoint, registry.VerifyCheckpoint(note));
  if (seq >= checkpoint.size) return NotFound("no event " + seq_text + " under the checkpoint");
  GRAFT_ASSIGN_OR_RETURN(registry::Event event, registry.GetEvent(seq));
  GRAFT_ASSIGN_OR_RETURN(registry::InclusionProof proof,
                         registry.ProveInclusion(seq, checkpoint.size));
  const bool leaf_ok = proof.leaf_hash == registry::MerkleLeafHash(event.body);
  const bool verified = leaf_ok && proof.root == checkpoint.root &&
                        registry::VerifyInclusion(proof.leaf_hash, proof.index, proof.size,
                                                  proof.path, checkpoint.root);
  std::string path;
  for (const Digest& d : proof.path) path += DigestHex(d) + "\n";
  std::string body = "<pre id=\"event\">" +
                     Text(event.json.dump(2, ' ', false, Json::error_handler_t::replace)) +
                     "</pre>\n<h2>Inclusion proof</h2>\n";
  body += "<p id=\"inclusion\" class=\"" + std::string(verified ? "ok" : "failed") + "\">" +
          (verified ? "verified: " : "NOT verified: ") + "event " + std::to_string(seq) +
          " is leaf " + std::to_string(proof.index) + " of the tree of " +
          std::to_string(proof.size) + " events whose root the latest signed checkpoint states" +
          "</p>\n";
  body += Table({"", ""},
                {{"leaf hash", Mono(DigestHex(proof.leaf_hash))},
                 {"checkpoint root", Mono(DigestHex(checkpoint.root))},
                 {"audit path", "<pre>" + Text(path) + "</pre>"}},
                "proof");
  body += "<h2>Checkpoint</h2>\n<pre>" + Text(note) +
          "</pre>\n<p>JSON: " + Link("/api/v1/log/" + std::to_string(seq), "event") + " · " +
          Link("/api/v1/proofs/inclusion?seq=" + std::to_string(seq), "inclusion proof") + "</p>\n";
  return Page("Event " + std::to_string(seq), body);
}

Result<std::string> Pages::Checkpoint(registry::Registry& registry) {
  GRAFT_ASSIGN_OR_RETURN(std::string note, registry.LatestCheckpoint());
  Result<registry::Checkpoint> verified = registry.VerifyCheckpoint(note);
  std::string body =
      "<p>The latest signed tree head of the event log, as a C2SP signed note "
      "(origin, size, base64 root hash, then an Ed25519 signature line by the "
      "registry key).</p>\n<pre id=\"checkpoint\">" +
      Text(note) + "</pre>\n";
  body += verified.ok() ? "<p class=\"ok\" id=\"signature\">signature verified with the registry "
                          "key " +
                              Text(registry.registry_key().key_id()) + "</p>\n"
                        : "<p class=\"failed\" id=\"signature\">signature NOT verified: " +
                              Text(verified.status().message()) + "</p>\n";
  body += "<p>Raw note: " + Link("/api/v1/checkpoint", "/api/v1/checkpoint") +
          "; consistency proofs: <span class=\"mono\">/api/v1/proofs/consistency?old=N</span>"
          "</p>\n";
  return Page("Checkpoint", body);
}

Result<std::string> Pages::Audit(const HttpRequest& request) {
  const bool run = Param(request, "run") == "1";
  AuditOutcome outcome;
  if (run) {
    GRAFT_ASSIGN_OR_RETURN(outcome, context_.audit.Run(context_.pool));
  } else {
    outcome = context_.audit.Latest();
  }
  std::string body =
      "<form method=\"get\" action=\"/audit\"><input type=\"hidden\" name=\"run\" value=\"1\"/>"
      "<button type=\"submit\" id=\"run-audit\">Run audit verify</button></form>\n";
  if (run && !outcome.ran) {
    body +=
        "<p id=\"rate-limited\" class=\"failed\">An audit ran moments ago; the next may start "
        "in " +
        std::to_string(outcome.retry_after_seconds) + " s. The latest result is shown.</p>\n";
  }
  if (!outcome.report) return Page("Audit", body + "<p>No audit has run yet.</p>\n");
  const registry::AuditReport& report = *outcome.report;
  body +=
      "<p id=\"audit-result\" class=\"" + std::string(report.ok() ? "ok" : "failed") + "\">" +
      (report.ok() ? "audit passed"
                   : "audit FAILED: " + std::to_string(report.problems.size()) + " problem(s)") +
      " (" + Text(outcome.time) + ")</p>\n";
  auto list = [&](const std::string& title, const std::string& id,
                  const std::vector<std::string>& lines) {
    if (lines.empty()) return;
    body += "<h2>" + Text(title) + "</h2>\n<ul id=\"" + id + "\">";
    for (const std::string& line : lines) body += "<li>" + Text(line) + "</li>";
    body += "</ul>\n";
  };
  list("Problems", "problems", report.problems);
  list("Findings to act on", "findings", report.findings);
  list("Notes", "notes", report.notes);
  list("Checked", "checked", report.checked);
  return Page("Audit", body);
}

}  // namespace graft::serve
