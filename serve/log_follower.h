// LogFollower: when the log grows, works out what its new events touch and carries every kept
// page they do not touch to the new log head (PageCache::Advance), so an append drops only the
// pages it changes (docs/serve.md, "Verification cache").
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "core/status.h"
#include "registry/registry.h"
#include "serve/page_cache.h"

namespace graft::serve {

// The topics pages and events share (CachedPage::topics).
inline constexpr std::string_view kEventTopic = "event";            // any event (lists, the log)
inline constexpr std::string_view kCheckpointTopic = "checkpoint";  // a new signed tree head
inline constexpr std::string_view kKeysTopic = "keys";              // a key trusted or revoked
std::string ObjectTopic(std::string_view hex);                      // an object named
std::string ChannelTopic(std::string_view channel);                 // one channel moved

// What one event touches: kEventTopic; every object whose 64-digit hex digest it names anywhere
// (subject, base, parents, datasets, policy, attestation...); the channel its details name; the
// keys for key.* events; everything for registry.init.
std::set<std::string> EventTopics(const Json& event);

class LogFollower {
 public:
  // Events read per log change at most; past that every kept page is dropped.
  static constexpr uint64_t kMaxEvents = 10'000;

  // Called with the log state a request read. When the log has grown since the last call, reads
  // the new events (and notes a new checkpoint) and advances `cache` from the last state to
  // `now`; an older state (a request that read the log before the append) changes nothing.
  Status Observe(registry::Registry& registry, const LogState& now, PageCache& cache);

 private:
  std::mutex mutex_;
  bool started_ = false;
  LogState head_;
};

}  // namespace graft::serve
