#include "registry/file_blob_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "core/file_util.h"
#include "core/sha256.h"

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
  // A symlink planted in its place is not followed.
  fs::remove(path);
  fs::create_symlink(dir.path() / "elsewhere", path);
  EXPECT_EQ(store.Get(digest).status().kind(), ErrorKind::kVerification);
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

// Every file under `dir`, relative (to see that nothing was left behind).
std::vector<std::string> FilesUnder(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) out.push_back(fs::relative(entry.path(), dir).string());
  }
  return out;
}

TEST(BlobStore, StreamsInPiecesAndStoresOnlyBytesThatMatchTheirDigest) {
  TempDir dir;
  FileBlobStore store(dir.path() / "blobs");
  const std::string big(kBlobPieceSize * 2 + 5, 'q');
  const std::string digest = *store.Put(big);
  std::vector<size_t> pieces;
  ASSERT_TRUE(store
                  .Stream(digest,
                          [&](std::string_view piece) {
                            pieces.push_back(piece.size());
                            return Status::Ok();
                          })
                  .ok());
  EXPECT_EQ(pieces, (std::vector<size_t>{kBlobPieceSize, kBlobPieceSize, 5}));
  // A sink's failure stops the stream and is returned.
  EXPECT_EQ(store.Stream(digest, [](std::string_view) { return IoError("disk full"); }).message(),
            "disk full");

  // Bytes that do not hash to the name given are not stored, and no temporary file remains.
  const std::string other = Sha256Hex("other");
  Result<std::string> wrong =
      store.PutStream(other, [](const BlobSink& sink) { return sink("not other"); });
  EXPECT_EQ(wrong.status().kind(), ErrorKind::kVerification);
  EXPECT_FALSE(store.Has(other));
  EXPECT_EQ(FilesUnder(dir.path()).size(), 1u);  // the big blob alone
  bool created = false;
  EXPECT_EQ(*store.PutStream(
                other, [](const BlobSink& sink) { return sink("other"); }, &created),
            other);
  EXPECT_TRUE(created);
}

TEST(BlobStore, WriteFileAndCopyFromRehashAndLeaveNothingOnMismatch) {
  TempDir dir;
  FileBlobStore store(dir.path() / "blobs");
  FileBlobStore copy(dir.path() / "copy");
  const std::string digest = *store.Put(std::string(kBlobPieceSize + 1, 'z'));
  EXPECT_EQ(*store.WriteFile(digest, dir.path() / "out.bin"), kBlobPieceSize + 1);
  EXPECT_EQ(*ReadFile(dir.path() / "out.bin"), std::string(kBlobPieceSize + 1, 'z'));
  EXPECT_EQ(*copy.CopyFrom(store, digest), kBlobPieceSize + 1);
  EXPECT_EQ(*copy.Get(digest), std::string(kBlobPieceSize + 1, 'z'));
  EXPECT_EQ(*copy.CopyFrom(store, digest), 0u);  // already there: not read again

  // The last byte altered: detected only after the last piece, yet nothing is left.
  const fs::path path = *store.PathFor(digest);
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  {
    std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(static_cast<std::streamoff>(kBlobPieceSize));
    file.put('Z');
  }
  EXPECT_EQ(store.WriteFile(digest, dir.path() / "again.bin").status().kind(),
            ErrorKind::kVerification);
  EXPECT_FALSE(fs::exists(dir.path() / "again.bin"));
  FileBlobStore fresh(dir.path() / "fresh");
  EXPECT_EQ(fresh.CopyFrom(store, digest).status().kind(), ErrorKind::kVerification);
  EXPECT_FALSE(fresh.Has(digest));
  const std::vector<std::string> left = FilesUnder(dir.path());
  EXPECT_EQ(std::count_if(left.begin(), left.end(),
                          [](const std::string& f) { return f.find(".tmp") != std::string::npos; }),
            0);
}

}  // namespace
}  // namespace graft::registry
