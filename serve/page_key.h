// PageKey: what a served page is kept under in the PageCache, and the blob files whose change on
// disk makes it stale (those its verification hashes).
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
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
  // What the page shows by its path (LogFollower's topics): kEventTopic for lists and the log,
  // kKeysTopic for /keys, kCheckpointTopic for /checkpoint and /log/SEQ, the channel for
  // /channels/NAME; an adapter's or object's page adds its own when it is built.
  std::vector<std::string> topics;
};

// nullopt for a page that is never kept (/audit). An error is the page's own: a malformed or
// unknown reference.
Result<std::optional<PageKey>> KeyFor(const HttpRequest& request, registry::Registry& registry);

// The log's size and latest checkpoint note.
Result<LogState> ReadLogState(registry::Registry& registry);

// PageKeys of adapter and object pages by request path, for one log state: a reference resolves
// to the same object, and an object has the same files and attestations, until the log changes.
// Saves a kept page's request from resolving and listing them again.
class PageKeyMemo {
 public:
  std::optional<PageKey> Find(const std::string& path, const LogState& log);
  void Store(const std::string& path, const LogState& log, const PageKey& key);

 private:
  static constexpr size_t kMaxKeys = 65536;
  std::mutex mutex_;
  LogState log_;
  std::unordered_map<std::string, PageKey> keys_;
};

}  // namespace graft::serve
