#include "report_builder/audit_report_builder.h"

#include <charconv>
#include <regex>

#include "core/intoto.h"
#include "registry/vocabulary.h"
#include "report_builder/verified_log.h"

namespace graft::report_builder {
namespace {

constexpr std::string_view kRollbackReason = "rollback";

std::string Text(const Json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_string()
             ? object[key].get<std::string>()
             : "";
}

// "kpi site/acc FAIL (reason); ..." — the criteria of a decision's JSON that failed or were
// inconclusive, or its verdict when none did.
std::string Unmet(const Json& decision) {
  std::string out;
  for (const Json& c : decision.value("criteria", Json::array())) {
    const std::string status = Text(c, "status");
    if (status != "FAIL" && status != "INCONCLUSIVE") continue;
    out += (out.empty() ? "" : "; ") + Text(c, "name") + " " + status +
           (Text(c, "reason").empty() ? "" : " (" + Text(c, "reason") + ")");
  }
  return out.empty() ? Text(decision, "verdict") : out;
}

}  // namespace

Result<AuditPeriod> AuditPeriod::Parse(std::string_view since) {
  AuditPeriod period;
  if (since.empty()) return period;
  const std::string text(since);
  static const std::regex kSeq(R"(\d{1,19})");
  static const std::regex kTime(
      R"((\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z)?)");
  std::smatch m;
  if (std::regex_match(text, kSeq)) {
    uint64_t seq = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seq);
    if (error != std::errc() || end != text.data() + text.size()) {
      return InvalidInput("--since " + text + ": not a log position");
    }
    period.since_seq = seq;
    return period;
  }
  if (!std::regex_match(text, m, kTime)) {
    return InvalidInput("--since \"" + text +
                        "\": expected an event number (42), a date (2026-11-01) or a UTC time "
                        "(2026-11-01T08:00:00Z)");
  }
  auto field = [&](int i) { return m[i].matched ? std::stoi(m[i].str()) : 0; };
  if (field(2) < 1 || field(2) > 12 || field(3) < 1 || field(3) > 31 || field(4) > 23 ||
      field(5) > 59 || field(6) > 60) {
    return InvalidInput("--since \"" + text + "\": no such date or time");
  }
  std::string millis = m[7].matched ? m[7].str() : "";
  millis.resize(3, '0');
  char canonical[32];
  std::snprintf(canonical, sizeof canonical, "%04d-%02d-%02dT%02d:%02d:%02d.%sZ", field(1),
                field(2), field(3), field(4), field(5), field(6), millis.c_str());
  period.since_time = canonical;
  return period;
}

Result<reports::AuditReportData> AuditReportBuilder::Build(const AuditPeriod& period) {
  GRAFT_ASSIGN_OR_RETURN(VerifiedLog log, VerifiedLog::Load(registry_));
  GRAFT_ASSIGN_OR_RETURN(RegistryNames names, RegistryNames::Load(registry_));
  const std::vector<registry::Event>& events = log.events();
  size_t first = 0;
  if (period.since_seq) {
    if (*period.since_seq >= events.size()) {
      return InvalidInput("--since " + std::to_string(*period.since_seq) + ": the log has " +
                          std::to_string(events.size()) + " events (0 to " +
                          std::to_string(events.size() - 1) + ")");
    }
    first = *period.since_seq;
  }
  auto time_of = [&](size_t seq) { return Text(events[seq].json, "time"); };
  while (!period.since_time.empty() && first < events.size() &&
         time_of(first) < period.since_time) {
    ++first;
  }
  reports::AuditReportData audit;
  audit.checkpoint = log.checkpoint();
  audit.since = first < events.size() ? time_of(first) : period.since_time;
  audit.until = first < events.size() ? time_of(events.size() - 1) : period.since_time;
  for (size_t seq = first; seq < events.size(); ++seq) {
    GRAFT_RETURN_IF_ERROR(Classify(events[seq], names, audit));
  }
  return audit;
}

Status AuditReportBuilder::Classify(const registry::Event& event, const RegistryNames& names,
                                    reports::AuditReportData& audit) {
  const std::string action = Text(event.json, "action");
  const Json& details = event.json.contains("details") ? event.json["details"] : Json::object();
  reports::AuditEvent out{static_cast<int64_t>(event.seq),
                          Text(event.json, "time"),
                          names.Actor(Text(event.json, "actor")),
                          "",
                          "",
                          ""};
  auto digest_of = [&](const char* key) { return Sha256Prefixed(Text(details, key)); };
  if (action == registry::kAdapterPromoteEvent || action == registry::kAdapterPromoteBlockedEvent) {
    out.subject = names.Object(Text(details, "adapter")) + " -> " + Text(details, "channel");
    out.digest = digest_of("adapter");
    if (action == registry::kAdapterPromoteBlockedEvent) {
      out.detail = "promotion blocked: " + Unmet(details.value("decision", Json::object()));
      audit.failed_gates.push_back(std::move(out));
      return Status::Ok();
    }
    const std::string previous = Text(details, "previous");
    out.detail = "gate decision " + ShortSha256(Text(details, "gate_decision")) +
                 (previous.empty() ? "; new channel" : "; replaces " + names.Object(previous));
    audit.promotions.push_back(std::move(out));
  } else if (action == registry::kChannelSetEvent &&
             Text(details, "reason").starts_with(kRollbackReason)) {
    out.subject = Text(details, "channel") + " -> " + names.Object(Text(details, "digest"));
    out.digest = digest_of("digest");
    out.detail = Text(details, "reason");
    audit.rollbacks.push_back(std::move(out));
  } else if (action == registry::kStageSetEvent && Text(details, "stage") == "retired") {
    out.subject = names.Object(Text(details, "digest"));
    out.digest = digest_of("digest");
    out.detail = Text(details, "reason");
    audit.retirements.push_back(std::move(out));
  } else if (action == registry::kKeyRevokeEvent) {
    out.subject = "key " + names.Keys({Text(details, "key_id")});
    out.digest = Text(details, "key_id");
    out.detail = Text(details, "reason");
    audit.revocations.push_back(std::move(out));
  } else if (action.ends_with(".revoke")) {
    out.subject = action.substr(0, action.find('.')) + " " + names.Object(Text(details, "digest"));
    out.digest = digest_of("digest");
    out.detail = Text(details, "reason");
    audit.revocations.push_back(std::move(out));
  } else if (action == registry::kPolicyPostHocEvent) {
    out.subject = names.Object(Text(details, "adapter"));
    out.digest = digest_of("policy");
    out.detail = "policy " + names.Object(Text(details, "policy")) + " entered the log at event " +
                 std::to_string(details.value("policy_seq", 0)) + ", after the adapter at event " +
                 std::to_string(details.value("adapter_seq", 0));
    audit.post_hoc_policy_attempts.push_back(std::move(out));
  } else if (action == registry::kAttestationAddEvent &&
             Text(details, "kind") == registry::kDecisionAttestation) {
    const std::string digest = Text(details, "digest");
    GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope, registry_.LoadAttestation(digest));
    GRAFT_ASSIGN_OR_RETURN(InTotoStatement statement,
                           InTotoStatement::Parse(envelope.payload, "decision sha256:" + digest));
    const Json decision = statement.predicate.value("decision", Json::object());
    if (Text(decision, "verdict") == "pass") return Status::Ok();
    out.subject = names.Object(Text(details, "subject"));
    out.digest = Sha256Prefixed(digest);
    out.detail =
        Text(decision, "policy") + ": " + Text(decision, "verdict") + ": " + Unmet(decision);
    audit.failed_gates.push_back(std::move(out));
  }
  return Status::Ok();
}

}  // namespace graft::report_builder
