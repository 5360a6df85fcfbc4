#include "serve/log_follower.h"

namespace graft::serve {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

std::string ObjectTopic(std::string_view hex) { return "object " + std::string(hex); }
std::string ChannelTopic(std::string_view channel) { return "channel " + std::string(channel); }

std::set<std::string> EventTopics(const Json& event) {
  std::set<std::string> topics = {std::string(kEventTopic)};
  const std::string action = event.value("action", "");
  if (action == "registry.init") topics.insert(std::string(kAllTopics));
  if (action.starts_with("key.")) topics.insert(std::string(kKeysTopic));
  const Json details = event.value("details", Json::object());
  if (details.is_object() && details.contains("channel") && details["channel"].is_string()) {
    topics.insert(ChannelTopic(details["channel"].get<std::string>()));
  }
  // Every run of exactly 64 lower-case hex digits in the canonical body: the digests it names,
  // wherever the action puts them (a longer run, a signature, names nothing and is skipped).
  const std::string body = event.dump();
  for (size_t i = 0; i < body.size();) {
    if (!IsLowerHex(body[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < body.size() && IsLowerHex(body[end])) ++end;
    if (end - i == 64) topics.insert(ObjectTopic(std::string_view(body).substr(i, 64)));
    i = end;
  }
  return topics;
}

Status LogFollower::Observe(registry::Registry& registry, const LogState& now, PageCache& cache) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!started_) {
    started_ = true;
    head_ = now;
    return Status::Ok();
  }
  if (now == head_ || now.size < head_.size) return Status::Ok();
  std::set<std::string> topics;
  if (now.checkpoint != head_.checkpoint) topics.insert(std::string(kCheckpointTopic));
  if (now.size - head_.size > kMaxEvents) {
    topics.insert(std::string(kAllTopics));
  } else {
    for (uint64_t seq = head_.size; seq < now.size; ++seq) {
      GRAFT_ASSIGN_OR_RETURN(registry::Event event, registry.GetEvent(seq));
      topics.merge(EventTopics(event.json));
    }
  }
  cache.Advance(head_, now, topics);
  head_ = now;
  return Status::Ok();
}

}  // namespace graft::serve
