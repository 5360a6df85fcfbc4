// PageCache: a kept page is found only while its log, its files' stamps and its age allow; the
// least recently used pages go past the memory budget; forced re-verification is rate-limited
// per page; the verification banner replaces the marker.
#include "serve/page_cache.h"

#include <gtest/gtest.h>

#include <fstream>

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
  // Same size, another checkpoint (a cosigned or re-signed note): stale, and dropped.
  EXPECT_EQ(cache.Find("adapter aa", {5, "other note"}), nullptr);
  EXPECT_EQ(cache.Find("adapter bb", {6, "note 6"}), nullptr);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
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
  const std::string fresh = cache.Render(*page, true, "/adapters/sha256%3Aab", 0);
  EXPECT_EQ(fresh.find(kVerificationMarker), std::string::npos);
  EXPECT_NE(fresh.find("<h2>Verification</h2><p id=\"verification-time\""), std::string::npos);
  EXPECT_NE(fresh.find("2026-12-03T10:00:00.000Z</span>, for this request"), std::string::npos);
  EXPECT_NE(fresh.find("at least every 600 s"), std::string::npos);
  EXPECT_NE(fresh.find("href=\"/adapters/sha256%3Aab?verify=1\""), std::string::npos);
  EXPECT_NE(fresh.find("</p>\n<table></table></main>"), std::string::npos);
  EXPECT_EQ(fresh.find("reverify-limited"), std::string::npos);
  page->built = Clock::now() - std::chrono::seconds(42);
  const std::string kept = cache.Render(*page, false, "/x", 7);
  EXPECT_NE(kept.find("42 s ago (kept in the verification cache)"), std::string::npos);
  EXPECT_NE(kept.find("id=\"reverify-limited\""), std::string::npos);
  EXPECT_NE(kept.find("may start in 7 s"), std::string::npos);
  EXPECT_EQ(cache.Render(*MakePage("<p>no marker</p>"), true, "/x", 0), "<p>no marker</p>");
}

}  // namespace
}  // namespace graft::serve
