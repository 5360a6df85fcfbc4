// AuditReportBuilder: `graft report audit` — what changed in the registry over a period
// (promotions, rollbacks, retirements, revocations, failed gates, post-hoc policy attempts),
// with the signed checkpoint the log was verified against.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "registry/registry.h"
#include "report_builder/registry_names.h"
#include "reports/report_model.h"

namespace graft::report_builder {

// Where a period starts: a log position, or a UTC time (events at or after it).
struct AuditPeriod {
  std::optional<uint64_t> since_seq;
  std::string since_time;  // "YYYY-MM-DDTHH:MM:SS.mmmZ", the events' own form; "" for none

  // "" (the whole log), a SEQ ("42"), a date ("2026-11-01") or an RFC 3339 UTC time
  // ("2026-11-01T08:00:00Z", fractions allowed). Anything else is InvalidInput.
  static Result<AuditPeriod> Parse(std::string_view since);
};

class AuditReportBuilder {
 public:
  // Reads only: the registry is not changed.
  explicit AuditReportBuilder(registry::Registry& registry) : registry_(registry) {}

  // The events of the period in log order, sorted into the report's lists. `since` and `until`
  // are the times of the period's first and last events (the requested time when no event is
  // in the period). A SEQ beyond the log is InvalidInput.
  Result<reports::AuditReportData> Build(const AuditPeriod& period);

 private:
  // Sorts one event into `audit`'s lists (most events belong to none).
  Status Classify(const registry::Event& event, const RegistryNames& names,
                  reports::AuditReportData& audit);

  registry::Registry& registry_;
};

}  // namespace graft::report_builder
