// PageCache: a kept page is found only while its log, its files' stamps and its age allow; a grown
// log drops exactly the pages its events touch and carries the others; the least recently used
// pages go past the memory budget; forced re-verification is rate-limited per page; concurrent
// builds of one page are coalesced; the verification banner replaces the marker.
#include "serve/page_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "core/file_util.h"

namespace graft::serve {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::shared_ptr<CachedPage> MakePage(std::string html, uint64_t log_size = 5) {
  auto page = std::make_shared<CachedPage>();
  page->html = std::move(html);
  page->log = {log_size, "note " + std::to_string(log_size)};
  page->built = Clock::now();
  page->built_utc = "2026-12-03T10:00:00.000Z";
  return page;
}

TEST(PageCacheTest, FoundOnlyForTheSameLogAndKey) {
  PageCache cache({});
  cache.Store("adapter aa", MakePage("<p>aa</p>"));
  cache.Store("adapter bb", MakePage("<p>bb</p>"));
  ASSERT_NE(cache.Find("adapter aa", {5, "note 5"}), nullptr);
  EXPECT_EQ(cache.Find("adapter aa", {5, "note 5"})->html, "<p>aa</p>");
  EXPECT_EQ(cache.Find("adapter bb", {5, "note 5"})->html, "<p>bb</p>");
  EXPECT_EQ(cache.Find("adapter cc", {5, "note 5"}), nullptr);
  // Another log, until PageCache::Advance carries the page to it: not found.
  EXPECT_EQ(cache.Find("adapter aa", {5, "other note"}), nullptr);
  EXPECT_EQ(cache.Find("adapter bb", {6, "note 6"}), nullptr);
}

TEST(PageCacheTest, AGrownLogDropsTheTouchedPagesAndCarriesTheOthers) {
  PageCache cache({});
  const LogState five{5, "note 5"}, six{6, "note 6"}, seven{7, "note 7"};
  auto page = [](std::vector<std::string> topics) {
    auto p = MakePage("<p>page</p>");
    p->topics = std::move(topics);
    return p;
  };
  cache.Store("adapter aa", page({"object aa", "object base", "keys"}));
  cache.Store("adapter bb", page({"object bb", "object base", "keys"}));
  cache.Store("/keys", page({"keys"}));
  cache.Store("/log", page({"event"}));
  cache.Store("/log/3", page({"checkpoint"}));
  // An event naming aa, with its checkpoint.
  EXPECT_EQ(cache.Advance(five, six, {"event", "object aa", "checkpoint"}),
            (std::vector<std::string>{"/log", "/log/3", "adapter aa"}));
  EXPECT_EQ(cache.Find("adapter aa", six), nullptr);
  EXPECT_EQ(cache.Find("/log", six), nullptr);
  ASSERT_NE(cache.Find("adapter bb", six), nullptr);
  EXPECT_NE(cache.Find("/keys", six), nullptr);
  // Carried, not rebuilt: the page still says which log it was built from.
  EXPECT_EQ(cache.Find("adapter bb", six)->log, five);
  // A reader that read the log before the append finds nothing, and drops nothing.
  EXPECT_EQ(cache.Find("adapter bb", five), nullptr);
  EXPECT_NE(cache.Find("adapter bb", six), nullptr);
  // A page built from the old log does not replace the carried one.
  auto late = page({"object bb"});
  late->html = "late";
  cache.Store("adapter bb", late);
  EXPECT_EQ(cache.Find("adapter bb", six)->html, "<p>page</p>");
  // A key event touches every page verifying signatures and /keys.
  EXPECT_EQ(cache.Advance(six, seven, {"event", "keys", "checkpoint"}),
            (std::vector<std::string>{"/keys", "adapter bb"}));
  EXPECT_EQ(cache.size(), 0u);
  // Pages valid for another log than the one advanced from, and everything on kAllTopics.
  cache.Store("adapter aa", page({"object aa"}));
  cache.Store("adapter bb", page({"object bb"}));
  EXPECT_EQ(cache.Advance(six, seven, {"event"}),
            (std::vector<std::string>{"adapter aa", "adapter bb"}));
  cache.Store("adapter aa", page({"object aa"}));
  EXPECT_EQ(cache.Advance(five, six, {std::string(kAllTopics)}),
            std::vector<std::string>{"adapter aa"});
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(PageCacheTest, ConcurrentBuildsOfOnePageAreCoalesced) {
  PageCache cache({});
  EXPECT_FALSE(cache.JoinBuild("adapter aa").valid());  // the first leads
  EXPECT_FALSE(cache.JoinBuild("adapter bb").valid());  // another page: its own build
  std::vector<std::shared_future<void>> waiting;
  for (int i = 0; i < 3; ++i) waiting.push_back(cache.JoinBuild("adapter aa"));
  std::atomic<int> woken{0};
  std::vector<std::thread> followers;
  for (auto& future : waiting) {
    ASSERT_TRUE(future.valid());
    followers.emplace_back([&woken, future] {
      future.wait();
      ++woken;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(woken, 0);
  cache.EndBuild("adapter aa");
  for (std::thread& t : followers) t.join();
  EXPECT_EQ(woken, 3);
  EXPECT_FALSE(cache.JoinBuild("adapter aa").valid());  // the next build leads again
  cache.EndBuild("adapter aa");
  cache.EndBuild("adapter bb");
}

TEST(PageCacheTest, AChangedMissingOrNewFileMakesThePageStale) {
  TempDir dir("graft-page-cache");
  const fs::path blob = dir.path() / "blob", absent = dir.path() / "absent";
  ASSERT_TRUE(WriteFileAtomic(blob, "0123456789").ok());
  auto page = MakePage("x");
  page->files = {{blob, StampFile(blob)}, {absent, StampFile(absent)}};
  EXPECT_TRUE(page->files[0].second.exists);
  EXPECT_FALSE(page->files[1].second.exists);
  PageCache cache({});
  cache.Store("k", page);
  ASSERT_NE(cache.Find("k", page->log), nullptr);
  {  // in place, same size
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put('x');
  }
  EXPECT_EQ(cache.Find("k", page->log), nullptr);

  page->files = {{blob, StampFile(blob)}, {absent, StampFile(absent)}};
  cache.Store("k", page);
  ASSERT_NE(cache.Find("k", page->log), nullptr);
  ASSERT_TRUE(WriteFileAtomic(absent, "now here").ok());
  EXPECT_EQ(cache.Find("k", page->log), nullptr);

  page->files = {{blob, StampFile(blob)}};
  cache.Store("k", page);
  ASSERT_NE(cache.Find("k", page->log), nullptr);
  fs::remove(blob);
  EXPECT_EQ(cache.Find("k", page->log), nullptr);
}

TEST(PageCacheTest, PagesOlderThanMaxAgeAreStale) {
  PageCache cache({.max_age = std::chrono::seconds(60)});
  auto fresh = MakePage("fresh");
  auto old = MakePage("old");
  old->built = Clock::now() - std::chrono::seconds(61);
  cache.Store("fresh", fresh);
  cache.Store("old", old);
  EXPECT_NE(cache.Find("fresh", fresh->log), nullptr);
  EXPECT_EQ(cache.Find("old", old->log), nullptr);
}

TEST(PageCacheTest, LeastRecentlyUsedPagesGoPastTheBudget) {
  PageCache cache({.max_bytes = 3000});  // two pages of 1000 bytes and their keys
  const LogState log = MakePage("")->log;
  cache.Store("one", MakePage(std::string(1000, '1')));
  cache.Store("two", MakePage(std::string(1000, '2')));
  ASSERT_NE(cache.Find("one", log), nullptr);  // now the most recently used
  cache.Store("three", MakePage(std::string(1000, '3')));
  EXPECT_NE(cache.Find("one", log), nullptr);
  EXPECT_EQ(cache.Find("two", log), nullptr);
  EXPECT_NE(cache.Find("three", log), nullptr);
  EXPECT_LE(cache.bytes(), 3000u);
  cache.Store("huge", MakePage(std::string(5000, 'h')));  // larger than the budget: not kept
  EXPECT_EQ(cache.Find("huge", log), nullptr);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(PageCacheTest, DisabledCacheKeepsNothing) {
  for (PageCache::Options options : {PageCache::Options{.max_bytes = 0},
                                     PageCache::Options{.max_age = std::chrono::seconds(0)}}) {
    PageCache cache(options);
    EXPECT_FALSE(cache.enabled());
    auto page = MakePage("x");
    cache.Store("k", page);
    EXPECT_EQ(cache.Find("k", page->log), nullptr);
  }
}

TEST(PageCacheTest, ForcedReverificationIsRateLimitedPerPage) {
  PageCache cache({.force_interval = std::chrono::seconds(3600)});
  int retry = 0;
  EXPECT_TRUE(cache.MayForce("adapter aa", retry));
  EXPECT_FALSE(cache.MayForce("adapter aa", retry));
  EXPECT_GT(retry, 3500);
  EXPECT_LE(retry, 3600);
  EXPECT_TRUE(cache.MayForce("adapter bb", retry));
  PageCache unlimited({.force_interval = std::chrono::seconds(0)});
  EXPECT_TRUE(unlimited.MayForce("k", retry));
  EXPECT_TRUE(unlimited.MayForce("k", retry));
}

TEST(PageCacheTest, BannerReplacesTheMarker) {
  PageCache cache({.max_age = std::chrono::seconds(600)});
  auto page = MakePage("<main><h2>Verification</h2>" + std::string(kVerificationMarker) +
                       "<table></table></main>");
  const std::string fresh = cache.Render(*page, true, "/adapters/sha256%3Aab", 0, 5);
  EXPECT_EQ(fresh.find(kVerificationMarker), std::string::npos);
  EXPECT_NE(fresh.find("<h2>Verification</h2><p id=\"verification-time\""), std::string::npos);
  EXPECT_NE(fresh.find("2026-12-03T10:00:00.000Z</span>, for this request"), std::string::npos);
  EXPECT_NE(fresh.find("at least every 600 s"), std::string::npos);
  EXPECT_NE(fresh.find("when a log event touches what this page shows"), std::string::npos);
  EXPECT_NE(fresh.find("href=\"/adapters/sha256%3Aab?verify=1\""), std::string::npos);
  EXPECT_NE(fresh.find("</p>\n<table></table></main>"), std::string::npos);
  EXPECT_EQ(fresh.find("reverify-limited"), std::string::npos);
  page->built = Clock::now() - std::chrono::seconds(42);
  const std::string kept = cache.Render(*page, false, "/x", 7, 5);
  EXPECT_NE(kept.find("42 s ago (kept in the verification cache)"), std::string::npos);
  EXPECT_EQ(kept.find("appended since"), std::string::npos);
  // Carried to a grown log: the page says against which log it ran.
  const std::string carried = cache.Render(*page, false, "/x", 0, 8);
  EXPECT_NE(carried.find("(kept in the verification cache), against the log of 5 events; the 3 "
                         "appended since touch nothing this page shows"),
            std::string::npos);
  EXPECT_NE(kept.find("id=\"reverify-limited\""), std::string::npos);
  EXPECT_NE(kept.find("may start in 7 s"), std::string::npos);
  EXPECT_EQ(cache.Render(*MakePage("<p>no marker</p>"), true, "/x", 0, 5), "<p>no marker</p>");
}

}  // namespace
}  // namespace graft::serve
