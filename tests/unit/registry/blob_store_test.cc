#include "registry/file_blob_store.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/file_util.h"

namespace graft::registry {
namespace {
namespace fs = std::filesystem;

TEST(BlobStore, PutIsContentAddressedAndGetReverifies) {
  TempDir dir;
  FileBlobStore store(dir.path() / "blobs");
  bool created = false;
  std::string digest = *store.Put("hello", &created);
  EXPECT_TRUE(created);
  EXPECT_EQ(digest, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_TRUE(fs::exists(dir.path() / "blobs/sha256/2c" /
                         "f24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
  EXPECT_EQ(*store.Get("sha256:" + digest), "hello");
  EXPECT_EQ(*store.Put("hello", &created), digest);
  EXPECT_FALSE(created);
  EXPECT_EQ(store.List(), std::vector<std::string>{digest});
}

TEST(BlobStore, AlteredAndMissingBlobsAreReported) {
  TempDir dir;
  FileBlobStore store(dir.path() / "blobs");
  std::string digest = *store.Put("payload");
  fs::path path = *store.PathFor(digest);
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(path, std::ios::binary) << "paYload";
  EXPECT_EQ(store.Get(digest).status().kind(), ErrorKind::kVerification);
  EXPECT_EQ(store.Verify(digest, 7).kind(), ErrorKind::kVerification);
  EXPECT_EQ(store.Verify(digest, 8).kind(), ErrorKind::kVerification);
  fs::remove(path);
  EXPECT_EQ(store.Get(digest).status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store.Verify(digest, 7).kind(), ErrorKind::kNotFound);
  EXPECT_FALSE(store.Has(digest));
}

TEST(BlobStore, NamesThatCouldEscapeAreRefused) {
  TempDir dir;
  FileBlobStore store(dir.path() / "blobs");
  for (std::string bad : {std::string("../../etc/passwd"), std::string(64, '.'),
                          std::string("/abs") + std::string(60, 'a'), std::string(64, 'A'),
                          std::string(63, 'a'), std::string(62, 'a') + "/.", std::string()}) {
    Result<fs::path> path = store.PathFor(bad);
    ASSERT_FALSE(path.ok()) << bad;
    EXPECT_EQ(path.status().kind(), ErrorKind::kInvalidInput);
    EXPECT_FALSE(store.Get(bad).ok());
  }
}

TEST(BlobStore, RemoveDeletesEmptyPrefixDirectories) {
  TempDir dir;
  FileBlobStore store(dir.path() / "blobs");
  fs::create_directories(dir.path() / "blobs");
  std::string digest = *store.Put("x");
  store.Remove(digest);
  EXPECT_FALSE(store.Has(digest));
  EXPECT_TRUE(fs::is_empty(dir.path() / "blobs"));
}

}  // namespace
}  // namespace graft::registry
