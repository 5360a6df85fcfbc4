// EventTopics: what each kind of log event touches (the objects it names anywhere, the channel it
// moves, the keys), which decides the kept pages a log append drops.
#include "serve/log_follower.h"

#include <gtest/gtest.h>

namespace graft::serve {
namespace {

const std::string kA(64, 'a'), kB(64, 'b'), kC = "0123456789abcdef" + std::string(48, 'c');

Json Event(const std::string& action, Json details) {
  return {{"seq", 9},
          {"time", "2026-12-03T10:00:00Z"},
          {"actor", "alice"},
          {"action", action},
          {"details", std::move(details)}};
}

std::set<std::string> Topics(std::initializer_list<std::string> topics) { return topics; }

TEST(EventTopicsTest, EachKindOfEventNamesWhatItTouches) {
  // A registration names the adapter, its base and its parents wherever they sit.
  EXPECT_EQ(
      EventTopics(Event("adapter.register",
                        {{"digest", kA}, {"info", {{"base", kB}, {"parents", {"sha256:" + kC}}}}})),
      Topics({"event", "object " + kA, "object " + kB, "object " + kC}));
  EXPECT_EQ(EventTopics(Event("stage.set", {{"digest", kA}, {"stage", "staging"}})),
            Topics({"event", "object " + kA}));
  EXPECT_EQ(EventTopics(Event("channel.set",
                              {{"channel", "bot@production"}, {"digest", kA}, {"reason", "r"}})),
            Topics({"event", "channel bot@production", "object " + kA}));
  EXPECT_EQ(EventTopics(Event("attestation.add", {{"digest", kB}, {"subject", kA}})),
            Topics({"event", "object " + kA, "object " + kB}));
  EXPECT_EQ(EventTopics(Event("dataset.revoke", {{"digest", kC}, {"reason", "leak"}})),
            Topics({"event", "object " + kC}));
  EXPECT_EQ(EventTopics(Event("key.revoke", {{"key_id", "k1"}, {"reason", "lost"}})),
            Topics({"event", "keys"}));
  EXPECT_EQ(EventTopics(Event("key.trust", {{"key_id", "k2"}, {"role", "approver"}})),
            Topics({"event", "keys"}));
  EXPECT_TRUE(
      EventTopics(Event("registry.init", Json::object())).contains(std::string(kAllTopics)));
  // Hex runs of another length (a short id, a 128-digit signature) name no object.
  EXPECT_EQ(EventTopics(Event("bench.filler", {{"n", "abc123"}, {"sig", kA + kB}})),
            Topics({"event"}));
}

}  // namespace
}  // namespace graft::serve
