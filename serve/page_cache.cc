#include "serve/page_cache.h"

#include <sys/stat.h>

#include <algorithm>

#include "serve/html.h"

namespace graft::serve {
namespace {

int64_t Nanoseconds(const timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

size_t Cost(const std::string& key, const CachedPage& page) {
  size_t bytes = key.size() + page.html.size() + page.log.checkpoint.size() + 256;
  for (const auto& [path, stamp] : page.files) bytes += path.native().size() + sizeof stamp;
  return bytes;
}

}  // namespace

FileStamp StampFile(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return {};
  return {true,
          info.st_dev,
          info.st_ino,
          info.st_size,
          Nanoseconds(info.st_mtim),
          Nanoseconds(info.st_ctim)};
}

std::shared_ptr<const CachedPage> PageCache::Find(const std::string& key, const LogState& log) {
  if (!enabled()) return nullptr;
  std::shared_ptr<const CachedPage> page;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = pages_.find(key);
    if (it == pages_.end()) return nullptr;
    if (Clock::now() - it->second.page->built >= options_.max_age) {
      EraseLocked(it);
      return nullptr;
    }
    // Another log: a reader that saw the log before (or after) an append; the page stays for
    // the readers of the log it is valid for.
    if (it->second.valid_for != log) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    page = it->second.page;
  }
  for (const auto& [path, stamp] : page->files) {
    if (StampFile(path) == stamp) continue;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = pages_.find(key);
    if (it != pages_.end() && it->second.page == page) EraseLocked(it);
    return nullptr;
  }
  return page;
}

void PageCache::Store(const std::string& key, std::shared_ptr<const CachedPage> page) {
  if (!enabled()) return;
  const size_t cost = Cost(key, *page);
  if (cost > options_.max_bytes) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = pages_.find(key); it != pages_.end()) {
    if (it->second.valid_for.size > page->log.size) return;
    EraseLocked(it);
  }
  while (!lru_.empty() && bytes_ + cost > options_.max_bytes) EraseLocked(pages_.find(lru_.back()));
  lru_.push_front(key);
  LogState valid_for = page->log;
  pages_.emplace(key, Slot{std::move(page), lru_.begin(), std::move(valid_for)});
  bytes_ += cost;
}

std::vector<std::string> PageCache::Advance(const LogState& from, const LogState& to,
                                            const std::set<std::string>& topics) {
  const bool all = topics.contains(std::string(kAllTopics));
  std::vector<std::string> dropped;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = pages_.begin(); it != pages_.end();) {
    Slot& slot = it->second;
    bool touched = all || slot.valid_for != from;
    for (size_t i = 0; !touched && i < slot.page->topics.size(); ++i) {
      touched = topics.contains(slot.page->topics[i]);
    }
    if (!touched) {
      slot.valid_for = to;
      ++it;
      continue;
    }
    dropped.push_back(it->first);
    EraseLocked(it++);
  }
  std::sort(dropped.begin(), dropped.end());
  return dropped;
}

std::shared_future<void> PageCache::JoinBuild(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, leader] = building_.try_emplace(key);
  if (leader) return {};
  return it->second.waited;
}

void PageCache::EndBuild(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = building_.find(key);
  if (it == building_.end()) return;
  it->second.done.set_value();
  building_.erase(it);
}

void PageCache::EraseLocked(std::unordered_map<std::string, Slot>::iterator it) {
  bytes_ -= Cost(it->first, *it->second.page);
  lru_.erase(it->second.lru);
  pages_.erase(it);
}

bool PageCache::MayForce(const std::string& key, int& retry_after_seconds) {
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  if (forced_.size() > 4096) {
    std::erase_if(forced_,
                  [&](const auto& f) { return now - f.second >= options_.force_interval; });
  }
  auto [it, inserted] = forced_.emplace(key, now);
  if (!inserted && now - it->second < options_.force_interval) {
    const auto wait = options_.force_interval - (now - it->second);
    retry_after_seconds = static_cast<int>(
        std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(wait).count()));
    return false;
  }
  it->second = now;
  return true;
}

std::string PageCache::Render(const CachedPage& page, bool fresh, const std::string& self,
                              int rate_limited_seconds, uint64_t log_size) const {
  const size_t marker = page.html.find(kVerificationMarker);
  if (marker == std::string::npos) return page.html;
  const auto age =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - page.built).count();
  std::string banner =
      "<p id=\"verification-time\" class=\"meta\">Verification ran at <span>" +
      Text(page.built_utc) + "</span>, " +
      (fresh ? std::string("for this request")
             : std::to_string(age) + " s ago (kept in the verification cache)") +
      (log_size > page.log.size ? ", against the log of " + std::to_string(page.log.size) +
                                      " events; the " + std::to_string(log_size - page.log.size) +
                                      " appended since touch nothing this page shows"
                                : std::string()) +
      (enabled() ? ". It runs again when a log event touches what this page shows, when a file "
                   "it hashed changes on disk, and at least every " +
                       std::to_string(options_.max_age.count()) + " s. "
                 : std::string(". The verification cache is off: it runs for "
                               "every request. ")) +
      "<a id=\"reverify\" href=\"" + Attr(self) + "?verify=1\">Re-verify now</a></p>\n";
  if (rate_limited_seconds > 0) {
    banner +=
        "<p id=\"reverify-limited\" class=\"failed\">This page was re-verified moments ago; "
        "the next forced run may start in " +
        std::to_string(rate_limited_seconds) + " s. The latest result is shown.</p>\n";
  }
  std::string html;
  html.reserve(page.html.size() + banner.size());
  html.append(page.html, 0, marker);
  html += banner;
  html.append(page.html, marker + kVerificationMarker.size());
  return html;
}

size_t PageCache::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

size_t PageCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pages_.size();
}

}  // namespace graft::serve
