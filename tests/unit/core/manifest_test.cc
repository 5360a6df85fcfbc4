#include "core/manifest.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "core/file_util.h"
#include "tests/unit/core/tree_helpers.h"

namespace graft {
namespace {

namespace fs = std::filesystem;
using testing::PutFile;

std::vector<std::string> Paths(const Manifest& m) {
  std::vector<std::string> out;
  for (const auto& e : m.entries) out.push_back(e.path);
  return out;
}

// Files whose component order differs from plain byte order ("a/b" vs "a-b" vs "a.txt").
void MakeOrderingTree(const fs::path& root) {
  PutFile(root, "a.txt", "alpha");
  PutFile(root, "a/b", "beta");
  PutFile(root, "a-b", "gamma");
  PutFile(root, "z", "");
}

TEST(Manifest, SortsPathsAsOmsAndComputesTheKnownRootDigest) {
  TempDir dir;
  MakeOrderingTree(dir.path());
  auto m = BuildManifest(dir.path());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(Paths(*m), (std::vector<std::string>{"a/b", "a-b", "a.txt", "z"}));
  EXPECT_EQ(DigestHex(m->entries[0].digest),
            "f44e64e75f3948e9f73f8dfa94721c4ce8cbb4f265c4790c702b2d41cfbf2753");
  EXPECT_EQ(m->entries[0].size, 4u);
  EXPECT_EQ(DigestHex(m->entries[3].digest),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // python3: sha256(b"".join(sha256(f).digest() for f in sorted(files, key=PurePosixPath)))
  EXPECT_EQ(m->RootDigestHex(), "73fd0a6ad583f1015e5bae7eff581cd7248ad5df364c14ca12b7b246c9486ffb");
}

TEST(Manifest, ThreadCountDoesNotChangeTheResult) {
  TempDir dir;
  for (int i = 0; i < 100; ++i)
    PutFile(dir.path(), "d" + std::to_string(i % 7) + "/f" + std::to_string(i),
            std::string(i * 1000, 'x'));
  PutFile(dir.path(), "big", std::string(5 << 20, 'y'));
  ManifestOptions one;
  one.threads = 1;
  ManifestOptions four;
  four.threads = 4;
  auto a = BuildManifest(dir.path(), one);
  auto b = BuildManifest(dir.path(), four);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->entries.size(), 101u);
  EXPECT_EQ(Paths(*a), Paths(*b));
  EXPECT_EQ(a->RootDigestHex(), b->RootDigestHex());
  EXPECT_TRUE(DiffManifests(*a, *b).empty());
}

TEST(Manifest, IgnorePathsCoverFilesAndDirectoryPrefixes) {
  TempDir dir;
  PutFile(dir.path(), "keep", "1");
  PutFile(dir.path(), "model.sig", "sig");
  PutFile(dir.path(), ".git/config", "x");
  PutFile(dir.path(), ".git/objects/ab/cd", "x");
  PutFile(dir.path(), ".gitignore", "x");  // a prefix of ".git" by bytes, not by component
  PutFile(dir.path(), "sub/skip", "x");
  PutFile(dir.path(), "sub/keep", "x");
  ManifestOptions options;
  options.ignore_paths = {"model.sig", ".git/", "./sub/skip"};
  auto m = BuildManifest(dir.path(), options);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(Paths(*m), (std::vector<std::string>{".gitignore", "keep", "sub/keep"}));
}

TEST(Manifest, RejectsUnsafeIgnorePaths) {
  TempDir dir;
  PutFile(dir.path(), "f", "1");
  for (const char* bad : {"../f", "/etc", "a/../b", "", "a//b"}) {
    ManifestOptions options;
    options.ignore_paths = {bad};
    auto m = BuildManifest(dir.path(), options);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().kind(), ErrorKind::kInvalidInput) << bad;
  }
}

TEST(Manifest, RefusesSymlinksUnlessAllowed) {
  TempDir dir;
  TempDir outside;
  PutFile(dir.path(), "real", "content");
  PutFile(outside.path(), "secret", "content");
  fs::create_symlink(outside.path() / "secret", dir.path() / "link");
  auto refused = BuildManifest(dir.path());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(refused.status().message().find("link is a symlink"), std::string::npos)
      << refused.status().message();

  ManifestOptions allow;
  allow.allow_symlinks = true;
  auto allowed = BuildManifest(dir.path(), allow);
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  ASSERT_EQ(Paths(*allowed), (std::vector<std::string>{"link", "real"}));
  EXPECT_EQ(allowed->entries[0].digest, allowed->entries[1].digest);  // the target's bytes

  ManifestOptions ignore;
  ignore.ignore_paths = {"link"};
  EXPECT_TRUE(BuildManifest(dir.path(), ignore).ok());
}

TEST(Manifest, DetectsSymlinkLoopsAndDanglingLinks) {
  TempDir dir;
  PutFile(dir.path(), "sub/f", "1");
  fs::create_directory_symlink("..", dir.path() / "sub" / "up");
  ManifestOptions allow;
  allow.allow_symlinks = true;
  auto loop = BuildManifest(dir.path(), allow);
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.status().message().find("loop"), std::string::npos) << loop.status().message();
  fs::remove(dir.path() / "sub" / "up");
  fs::create_symlink(dir.path() / "nowhere", dir.path() / "dangling");
  auto dangling = BuildManifest(dir.path(), allow);
  ASSERT_FALSE(dangling.ok());
  EXPECT_NE(dangling.status().message().find("dangling"), std::string::npos)
      << dangling.status().message();
}

TEST(Manifest, RefusesSpecialFiles) {
  TempDir dir;
  PutFile(dir.path(), "f", "1");
  ASSERT_EQ(::mkfifo((dir.path() / "pipe").c_str(), 0600), 0);
  auto fifo = BuildManifest(dir.path());
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.status().message().find("pipe is a FIFO"), std::string::npos)
      << fifo.status().message();
  fs::remove(dir.path() / "pipe");

  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string socket_path = (dir.path() / "sock").string();
  ASSERT_LT(socket_path.size(), sizeof(addr.sun_path));
  std::strcpy(addr.sun_path, socket_path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  auto sock = BuildManifest(dir.path());
  ::close(fd);
  ASSERT_FALSE(sock.ok());
  EXPECT_NE(sock.status().message().find("sock is a socket"), std::string::npos);
}

TEST(Manifest, RefusesUnsafeFileNames) {
  TempDir dir;
  PutFile(dir.path(), "back\\slash", "1");
  auto m = BuildManifest(dir.path());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("backslash"), std::string::npos) << m.status().message();
}

TEST(Manifest, EmptyDirectoryAndMissingDirectory) {
  TempDir dir;
  auto empty = BuildManifest(dir.path());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->entries.empty());
  EXPECT_EQ(empty->RootDigestHex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(BuildManifest(dir.path() / "nope").status().kind(), ErrorKind::kNotFound);
}

TEST(Manifest, DiffNamesChangedMissingAndExtraFiles) {
  TempDir dir;
  MakeOrderingTree(dir.path());
  auto before = BuildManifest(dir.path());
  ASSERT_TRUE(before.ok());
  PutFile(dir.path(), "a.txt", "ALPHA");
  fs::remove(dir.path() / "z");
  PutFile(dir.path(), "new/file", "n");
  auto after = BuildManifest(dir.path());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(DiffManifests(*before, *after),
            (std::vector<std::string>{"changed: a.txt", "missing: z", "extra: new/file"}));
  EXPECT_TRUE(DiffManifests(*before, *before).empty());
}

}  // namespace
}  // namespace graft
