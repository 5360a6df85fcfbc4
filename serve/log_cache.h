// LogCache: the registry's event log loaded and verified once per log size (VerifiedLog), shared
// by the adapter pages built on every connection.
#pragma once

#include <memory>
#include <mutex>

#include "core/status.h"
#include "registry/registry.h"
#include "report_builder/verified_log.h"

namespace graft::serve {

class LogCache {
 public:
  // The log verified at the registry's current size: the cached one when the log has not grown,
  // else loaded now (VerifiedLog::Load: checkpoint signature, root recomputed from every event).
  Result<std::shared_ptr<const report_builder::VerifiedLog>> Get(registry::Registry& registry);

 private:
  std::mutex mutex_;
  uint64_t size_ = 0;
  std::shared_ptr<const report_builder::VerifiedLog> log_;
};

}  // namespace graft::serve
