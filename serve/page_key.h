// PageKey: what a served page is kept under in the PageCache, and the blob files whose change on
// disk makes it stale (those its verification hashes).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "registry/registry.h"
#include "serve/http_server.h"
#include "serve/page_cache.h"

namespace graft::serve {

struct PageKey {
  // "adapter <hex>" and "object <hex>" (every reference to one object shares its page), else the
  // path and its sorted query.
  std::string key;
  std::string self;  // the page's own URL, for its re-verify link
  std::vector<std::filesystem::path> files;
};

// nullopt for a page that is never kept (/audit). An error is the page's own: a malformed or
// unknown reference.
Result<std::optional<PageKey>> KeyFor(const HttpRequest& request, registry::Registry& registry);

// The log's size and latest checkpoint note.
Result<LogState> ReadLogState(registry::Registry& registry);

}  // namespace graft::serve
