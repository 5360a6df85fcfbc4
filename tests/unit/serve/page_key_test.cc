// PageKeyMemo: a page's key is remembered for the log state it was computed at, and forgotten as
// soon as the log changes.
#include "serve/page_key.h"

#include <gtest/gtest.h>

namespace graft::serve {
namespace {

TEST(PageKeyMemoTest, KeysHoldForOneLogStateOnly) {
  PageKeyMemo memo;
  const LogState first{7, "note 7"}, grown{8, "note 8"}, resigned{7, "another note 7"};
  PageKey key{
      "adapter aa", "/adapters/sha256%3Aaa", {"/reg/blobs/aa/1", "/reg/blobs/bb/2"}, {"keys"}};
  EXPECT_FALSE(memo.Find("/adapters/bot@1", first));
  memo.Store("/adapters/bot@1", first, key);
  std::optional<PageKey> found = memo.Find("/adapters/bot@1", first);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->key, "adapter aa");
  EXPECT_EQ(found->self, "/adapters/sha256%3Aaa");
  EXPECT_EQ(found->files, key.files);
  EXPECT_EQ(found->topics, key.topics);
  EXPECT_FALSE(memo.Find("/adapters/bot@2", first));
  EXPECT_FALSE(memo.Find("/adapters/bot@1", grown));
  EXPECT_FALSE(memo.Find("/adapters/bot@1", resigned));
  // Storing under a new log state forgets every key of the old one.
  memo.Store("/adapters/bot@2", grown, PageKey{"adapter bb", "/b", {}, {}});
  EXPECT_FALSE(memo.Find("/adapters/bot@1", first));
  EXPECT_FALSE(memo.Find("/adapters/bot@1", grown));
  EXPECT_EQ(memo.Find("/adapters/bot@2", grown)->key, "adapter bb");
}

}  // namespace
}  // namespace graft::serve
