// PageCache: rendered pages of `graft serve` kept while what they show cannot have changed (no log
// event since touches them, same blob files on disk) and for a bounded time, so 200 readers do not
// re-verify the same report 200 times; concurrent builds of one page are coalesced (docs/serve.md,
// "Verification cache").
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace graft::serve {

// Where a page that verifies something puts the banner saying when the verification ran
// (PageCache::Banner replaces it on every response).
inline constexpr std::string_view kVerificationMarker = "<!--graft:verification-->";

// What stat(2) says of a file: any write, truncation, replacement, removal or chmod through the
// file system changes it (ctime cannot be set back by a process).
struct FileStamp {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};
FileStamp StampFile(const std::filesystem::path& path);

// The log a page was built from: its size and the latest signed checkpoint note.
struct LogState {
  uint64_t size = 0;
  std::string checkpoint;
  bool operator==(const LogState&) const = default;
};

struct CachedPage {
  std::string html;  // may hold kVerificationMarker
  LogState log;
  std::vector<std::pair<std::filesystem::path, FileStamp>> files;  // stamped before the build
  std::chrono::steady_clock::time_point built;                     // when the build started
  std::string built_utc;                                           // the same, for people
  // What the page shows, as PageTopics names it ("object <hex>", "channel NAME", "keys", ...):
  // a log event touching none of them leaves the page valid (PageCache::Advance).
  std::vector<std::string> topics;
};

class PageCache {
 public:
  struct Options {
    size_t max_bytes = size_t{256} << 20;  // 0: nothing is cached
    std::chrono::seconds max_age{600};     // 0: nothing is cached
    std::chrono::seconds force_interval{10};
  };
  explicit PageCache(Options options) : options_(options) {}

  bool enabled() const { return options_.max_bytes > 0 && options_.max_age.count() > 0; }
  const Options& options() const { return options_; }

  // The page kept under `key` when it is valid for `log` (built from it, or carried to it by
  // Advance), is younger than max_age and every file it depends on has its stamp still; else
  // nullptr (and a stale page is dropped).
  std::shared_ptr<const CachedPage> Find(const std::string& key, const LogState& log);
  // Keeps `page`, valid for the log it was built from (the least recently used pages go past
  // max_bytes). A page built from an older log than the kept one's does not replace it.
  void Store(const std::string& key, std::shared_ptr<const CachedPage> page);
  // The log went from `from` to `to` and its new events touch `topics` (kAllTopics: anything).
  // Every page valid for `from` whose topics meet them is dropped (built again on its next
  // request); the others become valid for `to`. Pages valid for an older log are dropped.
  // Returns the keys dropped, sorted.
  std::vector<std::string> Advance(const LogState& from, const LogState& to,
                                   const std::set<std::string>& topics);

  // Coalesces concurrent builds of one page: the first caller for `key` leads (empty future)
  // and must call EndBuild(key) when its page is stored (or failed); the others get a future
  // that is ready then, and look in the cache again instead of building the same page.
  std::shared_future<void> JoinBuild(const std::string& key);
  void EndBuild(const std::string& key);
  // Whether a forced re-verification of `key` may run now: at most one per force_interval for
  // each page. When not, `retry_after_seconds` says when.
  bool MayForce(const std::string& key, int& retry_after_seconds);

  // `page.html` with the marker replaced by a paragraph saying when its verification ran, whether
  // this response re-ran it, against which log size when the log (of `log_size` events now)
  // grew since without touching the page, the rules of the cache and a link (`self`?verify=1)
  // forcing a run.
  std::string Render(const CachedPage& page, bool fresh, const std::string& self,
                     int rate_limited_seconds, uint64_t log_size) const;

  size_t bytes() const;
  size_t size() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Slot {
    std::shared_ptr<const CachedPage> page;
    std::list<std::string>::iterator lru;
    LogState valid_for;  // page->log, or the log Advance carried it to
  };
  void EraseLocked(std::unordered_map<std::string, Slot>::iterator it);

  Options options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Slot> pages_;
  std::list<std::string> lru_;  // most recently used first
  size_t bytes_ = 0;
  std::map<std::string, Clock::time_point> forced_;
  struct Build {
    std::promise<void> done;
    std::shared_future<void> waited = done.get_future().share();
  };
  std::map<std::string, Build> building_;
};

// Matches every page in PageCache::Advance (a log replaced, or too many events to read).
inline constexpr std::string_view kAllTopics = "*";

}  // namespace graft::serve
