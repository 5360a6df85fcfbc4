#include "core/file_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

namespace graft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(WriteFileAtomic, WritesContentsAndMode) {
  TempDir dir;
  fs::path path = dir.path() / "a.txt";
  ASSERT_TRUE(WriteFileAtomic(path, std::string_view("one\0two", 7)).ok());
  EXPECT_EQ(*ReadFile(path), std::string_view("one\0two", 7));
  EXPECT_EQ(fs::status(path).permissions(), fs::perms(0644));

  ASSERT_TRUE(WriteFileAtomic(path, "replaced", fs::perms(0600)).ok());
  EXPECT_EQ(*ReadFile(path), "replaced");
  EXPECT_EQ(fs::status(path).permissions(), fs::perms(0600));
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(WriteFileAtomic, IgnoresUmask) {
  TempDir dir;
  mode_t old = ::umask(077);
  Status status = WriteFileAtomic(dir.path() / "k", "x", fs::perms(0644));
  ::umask(old);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(fs::status(dir.path() / "k").permissions(), fs::perms(0644));
}

TEST(WriteFileAtomic, FailsInAMissingDirectory) {
  TempDir dir;
  Status status = WriteFileAtomic(dir.path() / "no" / "a.txt", "x");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.kind(), ErrorKind::kIo);
}

TEST(ReadFile, ReadsAndEnforcesLimits) {
  TempDir dir;
  fs::path path = dir.path() / "f";
  ASSERT_TRUE(WriteFileAtomic(path, "12345").ok());
  EXPECT_EQ(*ReadFile(path, 5), "12345");
  auto big = ReadFile(path, 4);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_THAT(big.status().message(), HasSubstr("too large"));

  ASSERT_TRUE(WriteFileAtomic(dir.path() / "empty", "").ok());
  EXPECT_EQ(*ReadFile(dir.path() / "empty", 0), "");
}

TEST(ReadFile, RefusesMissingFilesDirectoriesAndFifos) {
  TempDir dir;
  auto missing = ReadFile(dir.path() / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), ErrorKind::kNotFound);
  auto directory = ReadFile(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().kind(), ErrorKind::kInvalidInput);
  fs::path fifo = dir.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto from_fifo = ReadFile(fifo);  // must not block waiting for a writer
  ASSERT_FALSE(from_fifo.ok());
  EXPECT_THAT(from_fifo.status().message(), HasSubstr("not a regular file"));
}

TEST(CheckSafeRelativePath, AcceptsPathsInside) {
  for (std::string_view ok : {"a", "a/b.txt", "a/.hidden", "..a", "a..", "a/...", "x y/ü"}) {
    EXPECT_TRUE(CheckSafeRelativePath(ok).ok()) << ok;
  }
}

TEST(CheckSafeRelativePath, RefusesEscapes) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "empty"},
      {"/etc/passwd", "absolute"},
      {"..", "escapes"},
      {"../x", "escapes"},
      {"a/../../x", "escapes"},
      {"a/..", "escapes"},
      {"a//b", "empty path component"},
      {"a/", "empty path component"},
      {"./a", "'.' component"},
      {"a/./b", "'.' component"},
      {"a\\..\\b", "backslash"},
      {std::string_view("a\0b", 3), "NUL"},
  };
  for (const auto& [path, why] : cases) {
    Status status = CheckSafeRelativePath(path);
    ASSERT_FALSE(status.ok()) << path;
    EXPECT_EQ(status.kind(), ErrorKind::kInvalidInput);
    EXPECT_THAT(status.message(), HasSubstr(std::string(why))) << path;
  }
}

TEST(TempDir, RemovesItselfRecursively) {
  fs::path kept;
  {
    TempDir dir("graft-test");
    kept = dir.path();
    EXPECT_TRUE(fs::is_directory(kept));
    EXPECT_THAT(kept.filename().string(), HasSubstr("graft-test-"));
    fs::create_directories(kept / "a" / "b");
    std::ofstream(kept / "a" / "b" / "f") << "x";
  }
  EXPECT_FALSE(fs::exists(kept));
}

}  // namespace
}  // namespace graft
