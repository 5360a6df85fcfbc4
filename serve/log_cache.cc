#include "serve/log_cache.h"

namespace graft::serve {

Result<std::shared_ptr<const report_builder::VerifiedLog>> LogCache::Get(
    registry::Registry& registry) {
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, registry.LogSize());
  // One load at a time: the others wait for it rather than all loading the same log.
  std::lock_guard<std::mutex> lock(mutex_);
  if (log_ != nullptr && size_ == size) return log_;
  GRAFT_ASSIGN_OR_RETURN(report_builder::VerifiedLog log,
                         report_builder::VerifiedLog::Load(registry));
  log_ = std::make_shared<const report_builder::VerifiedLog>(std::move(log));
  size_ = size;
  return log_;
}

}  // namespace graft::serve
