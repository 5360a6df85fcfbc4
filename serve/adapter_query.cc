#include "serve/adapter_query.h"

#include <algorithm>

#include "core/intoto.h"
#include "registry/vocabulary.h"
#include "serve/reference.h"

namespace graft::serve {
namespace {

constexpr std::string_view kStages[] = {"candidate", "staging",  "production",
                                        "retired",   "rejected", "revoked"};
constexpr std::string_view kVerdicts[] = {"pass", "fail", "inconclusive", "none"};

Status CheckParameter(std::string_view name, const std::string& value, size_t max = 256) {
  if (value.size() > max) return InvalidInput(std::string(name) + " is too long");
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidInput(std::string(name) + " holds control characters");
    }
  }
  return Status::Ok();
}

template <size_t N>
Status CheckOneOf(std::string_view name, const std::string& value,
                  const std::string_view (&allowed)[N]) {
  if (value.empty() ||
      std::find(std::begin(allowed), std::end(allowed), value) != std::end(allowed)) {
    return Status::Ok();
  }
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  return InvalidInput(std::string(name) + " must be one of " + list);
}

}  // namespace

Json AdapterRow::ToJson() const {
  return Json{{"digest", "sha256:" + digest},
              {"label", label},
              {"base", "sha256:" + base},
              {"base_label", base_label},
              {"stage", stage},
              {"channels", channels},
              {"verdict", verdict},
              {"tags", tags},
              {"created_seq", created_seq},
              {"revoked", revoked}};
}

Result<AdapterQuery> AdapterQuery::FromParameters(
    const std::map<std::string, std::string>& params) {
  AdapterQuery query;
  auto get = [&](const char* key) {
    auto it = params.find(key);
    return it == params.end() ? std::string() : it->second;
  };
  query.q = get("q");
  query.name = get("name");
  query.base = get("base");
  query.stage = get("stage");
  query.channel = get("channel");
  query.verdict = get("verdict");
  query.tag = get("tag");
  GRAFT_RETURN_IF_ERROR(CheckParameter("q", query.q));
  GRAFT_RETURN_IF_ERROR(CheckParameter("name", query.name));
  GRAFT_RETURN_IF_ERROR(CheckParameter("channel", query.channel));
  if (!query.base.empty()) GRAFT_RETURN_IF_ERROR(CheckReference(query.base));
  GRAFT_RETURN_IF_ERROR(CheckOneOf("stage", query.stage, kStages));
  GRAFT_RETURN_IF_ERROR(CheckOneOf("verdict", query.verdict, kVerdicts));
  if (!query.tag.empty()) {
    GRAFT_RETURN_IF_ERROR(registry::TagFilter::Parse(query.tag).status().WithContext("tag"));
  }
  if (!get("page").empty()) {
    GRAFT_ASSIGN_OR_RETURN(query.page, ParseCount(get("page"), "page", 1'000'000));
    if (query.page == 0) return InvalidInput("page starts at 1");
  }
  if (!get("per_page").empty()) {
    GRAFT_ASSIGN_OR_RETURN(query.per_page, ParseCount(get("per_page"), "per_page", 500));
    if (query.per_page == 0) return InvalidInput("per_page must be 1 to 500");
  }
  return query;
}

std::string AdapterQuery::ToQueryString(uint64_t page_override) const {
  std::string out;
  auto add = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    out += (out.empty() ? "?" : "&") + std::string(key) + "=" + UrlEncode(value);
  };
  add("q", q);
  add("name", name);
  add("base", base);
  add("stage", stage);
  add("channel", channel);
  add("verdict", verdict);
  add("tag", tag);
  add("per_page", per_page == 50 ? "" : std::to_string(per_page));
  add("page", std::to_string(page_override ? page_override : page));
  return out;
}

Result<std::string> LatestVerdict(registry::Registry& registry, const std::string& digest) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::AttestationRecord> decisions,
                         registry.Attestations(digest, registry::kDecisionAttestation));
  if (decisions.empty()) return std::string();
  GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope, registry.LoadAttestation(decisions.back().digest));
  GRAFT_ASSIGN_OR_RETURN(
      InTotoStatement statement,
      InTotoStatement::Parse(envelope.payload, "decision sha256:" + decisions.back().digest));
  const Json decision = statement.predicate.value("decision", Json::object());
  return decision.is_object() ? decision.value("verdict", std::string("?")) : std::string("?");
}

Result<AdapterPage> AdapterQuery::Run(registry::Registry& registry) const {
  registry::ObjectFilter filter{
      .kind = registry::kAdapterKind, .name = name, .stage = stage, .with_info = false};
  if (!tag.empty()) {
    GRAFT_ASSIGN_OR_RETURN(registry::TagFilter parsed, registry::TagFilter::Parse(tag));
    filter.tags.push_back(std::move(parsed));
  }
  if (!base.empty()) {
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord base_record,
                           ResolveReference(registry, registry::kBaseKind, base));
    filter.base_digest = base_record.digest;
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::ObjectRecord> all, registry.List(filter));
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::ChannelEntry> channels, registry.Channels());
  std::multimap<std::string, std::string> channels_of;
  for (const registry::ChannelEntry& c : channels) channels_of.emplace(c.digest, c.channel);

  std::vector<AdapterRow> matching;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const registry::ObjectRecord& record = *it;
    AdapterRow row;
    row.digest = record.digest;
    row.label = record.labels.empty() ? "" : record.DisplayName();
    row.stage = record.stage.value_or("candidate");
    row.created_seq = record.created_seq;
    row.revoked = record.revoked_seq.has_value();
    auto [from, to] = channels_of.equal_range(record.digest);
    for (auto c = from; c != to; ++c) row.channels.push_back(c->second);
    if (!q.empty()) {
      bool hit = record.digest.find(q) != std::string::npos ||
                 (q.starts_with("sha256:") && record.digest.starts_with(q.substr(7)));
      for (const std::string& label : record.labels)
        hit = hit || label.find(q) != std::string::npos;
      if (!hit) continue;
    }
    if (!channel.empty()) {
      const bool full = channel.find('@') != std::string::npos;
      bool hit = false;
      for (const std::string& c : row.channels) {
        hit = hit || (full ? c == channel : c.substr(c.rfind('@') + 1) == channel);
      }
      if (!hit) continue;
    }
    if (!verdict.empty()) {
      GRAFT_ASSIGN_OR_RETURN(row.verdict, LatestVerdict(registry, row.digest));
      if ((row.verdict.empty() ? "none" : row.verdict) != verdict) continue;
    }
    matching.push_back(std::move(row));
  }
  AdapterPage page_out;
  page_out.total = matching.size();
  page_out.page = page;
  page_out.per_page = per_page;
  const uint64_t first = (page - 1) * per_page;
  for (uint64_t i = first; i < matching.size() && i < first + per_page; ++i) {
    AdapterRow& row = matching[i];
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord full, registry.Get(row.digest));
    row.base = full.Info().value("base", std::string());
    if (!row.base.empty()) {
      GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord base_record, registry.Get(row.base));
      row.base_label = base_record.labels.empty() ? "" : base_record.DisplayName();
    }
    if (verdict.empty()) {
      GRAFT_ASSIGN_OR_RETURN(row.verdict, LatestVerdict(registry, row.digest));
    }
    GRAFT_ASSIGN_OR_RETURN(registry::Annotations annotations,
                           registry.AdapterAnnotations(row.digest));
    row.tags = std::move(annotations.tags);
    page_out.rows.push_back(std::move(row));
  }
  return page_out;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace graft::serve
