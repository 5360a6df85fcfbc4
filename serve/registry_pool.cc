#include "serve/registry_pool.h"

namespace graft::serve {

RegistryPool::Lease::~Lease() {
  if (registry_ == nullptr) return;
  std::lock_guard<std::mutex> lock(pool_->mutex_);
  pool_->idle_.push_back(std::move(registry_));
}

Result<std::unique_ptr<registry::Registry>> RegistryPool::OpenReadOnly(
    const std::filesystem::path& dir) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry opened, registry::Registry::Open(dir));
  auto registry = std::make_unique<registry::Registry>(std::move(opened));
  GRAFT_RETURN_IF_ERROR(registry->MakeQueryOnly());
  return registry;
}

Result<RegistryPool::Lease> RegistryPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<registry::Registry> registry = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(registry));
    }
  }
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<registry::Registry> registry, OpenReadOnly(dir_));
  return Lease(*this, std::move(registry));
}

}  // namespace graft::serve
