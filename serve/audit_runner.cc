#include "serve/audit_runner.h"

#include "registry/event_log.h"

namespace graft::serve {

AuditOutcome AuditRunner::Latest() {
  std::lock_guard<std::mutex> lock(mutex_);
  return {latest_, latest_time_, false, 0};
}

Result<AuditOutcome> AuditRunner::Run(RegistryPool& pool) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (running_ || (last_start_ && now - *last_start_ < interval_)) {
      const auto wait = last_start_ ? interval_ - (now - *last_start_) : interval_;
      const int seconds = static_cast<int>(
          std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(wait).count()));
      return AuditOutcome{latest_, latest_time_, false, seconds};
    }
    running_ = true;
    last_start_ = now;
  }
  Result<registry::AuditReport> report = [&]() -> Result<registry::AuditReport> {
    GRAFT_ASSIGN_OR_RETURN(RegistryPool::Lease registry, pool.Acquire());
    registry::Auditor auditor(*registry);
    return auditor.Run();
  }();
  std::lock_guard<std::mutex> lock(mutex_);
  running_ = false;
  if (!report.ok()) return report.status();
  latest_ = *report;
  latest_time_ = registry::EventLog::Now();
  return AuditOutcome{latest_, latest_time_, true, 0};
}

}  // namespace graft::serve
