// ServeContext: what every request handler of `graft serve` shares (connections, audit, page
// cache, limits).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "core/json.h"
#include "serve/audit_runner.h"
#include "serve/http_server.h"
#include "serve/log_cache.h"
#include "serve/log_follower.h"
#include "serve/page_cache.h"
#include "serve/page_key.h"
#include "serve/registry_pool.h"

namespace graft::serve {

struct ServeContext {
  ServeContext(std::filesystem::path dir, std::chrono::seconds audit_interval,
               PageCache::Options cache = {})
      : pool(std::move(dir)), audit(audit_interval), pages(cache) {}

  RegistryPool pool;
  AuditRunner audit;
  LogCache log;
  PageCache pages;
  LogFollower follower;
  PageKeyMemo keys;
  uint64_t max_response_bytes = uint64_t{64} << 20;  // pages and JSON
};

// A JSON response ({"error": message} for errors, with HttpStatusFor's status).
HttpResponse JsonResponse(const Json& json, int status = 200);
HttpResponse ErrorResponse(const Status& status);

}  // namespace graft::serve
