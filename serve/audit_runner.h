// AuditRunner: `audit verify` on demand for the web page and the API, one run at a time and at
// most one per interval; the latest report is kept to show in between.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "registry/auditor.h"
#include "serve/registry_pool.h"

namespace graft::serve {

struct AuditOutcome {
  std::optional<registry::AuditReport> report;  // the run's, or the latest kept one
  std::string time;                             // when that report was made (UTC)
  bool ran = false;                             // false: rate-limited, `report` is older
  int retry_after_seconds = 0;                  // when rate-limited
};

class AuditRunner {
 public:
  explicit AuditRunner(std::chrono::seconds interval) : interval_(interval) {}

  // Runs the audit unless one is running or the last started less than `interval` ago.
  Result<AuditOutcome> Run(RegistryPool& pool);
  // The latest report without running one.
  AuditOutcome Latest();

 private:
  std::chrono::seconds interval_;
  std::mutex mutex_;
  bool running_ = false;
  std::optional<std::chrono::steady_clock::time_point> last_start_;
  std::optional<registry::AuditReport> latest_;
  std::string latest_time_;
};

}  // namespace graft::serve
