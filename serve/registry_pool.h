// RegistryPool: read-only connections to one registry, lent to request handlers one at a time.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "core/status.h"
#include "registry/registry.h"

namespace graft::serve {

class RegistryPool {
 public:
  // A borrowed connection, returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(RegistryPool& pool, std::unique_ptr<registry::Registry> registry)
        : pool_(&pool), registry_(std::move(registry)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) noexcept = default;
    ~Lease();
    registry::Registry& operator*() { return *registry_; }
    registry::Registry* operator->() { return registry_.get(); }

   private:
    RegistryPool* pool_;
    std::unique_ptr<registry::Registry> registry_;
  };

  explicit RegistryPool(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Opens the registry read-only: SQLite refuses every write on the connection (PRAGMA
  // query_only), so no request can change the registry.
  static Result<std::unique_ptr<registry::Registry>> OpenReadOnly(const std::filesystem::path& dir);

  // An idle connection, or a new one.
  Result<Lease> Acquire();
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<registry::Registry>> idle_;
};

}  // namespace graft::serve
