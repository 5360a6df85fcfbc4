#include "tests/integration/registry/postgres_fault_helpers.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/file_util.h"
#include "tests/support/cli_runner.h"

extern char** environ;

namespace graft::registry {

testing::PostgresCluster& PgCluster() {
  testing::PostgresCluster& cluster = testing::PostgresCluster::Shared();
  EXPECT_TRUE(cluster.running()) << cluster.error();
  return cluster;
}

pid_t SpawnGraft(const std::vector<std::string>& args, const std::filesystem::path& err) {
  std::vector<std::string> strings = {testing::GraftBinary().string()};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  if (::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_GT(pid, 0) << "cannot start " << argv[0];
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  if (pid <= 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ReadText(const std::filesystem::path& file) {
  Result<std::string> text = ReadFile(file);
  return text.ok() ? *text : "";
}

bool WaitForLockWaiters(const testing::PostgresCluster& cluster, const std::string& uri,
                        int count) {
  for (int i = 0; i < 600; ++i) {
    std::string pids = cluster.Query(uri, kLockWaiters);
    int lines = 0;
    for (char c : pids) lines += c == '\n';
    if (lines >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string Counts(const testing::PostgresCluster& cluster, const std::string& uri) {
  return cluster.Query(uri,
                       "SELECT (SELECT count(*) FROM events) || ' events, ' || (SELECT count(*) "
                       "FROM objects) || ' objects, ' || (SELECT count(*) FROM blob_contents) || "
                       "' blobs, ' || (SELECT count(*) FROM blob_chunks) || ' chunks'");
}

void ExpectWholeLog(const testing::PostgresCluster& cluster, const std::string& uri) {
  EXPECT_EQ(cluster.Query(uri,
                          "SELECT count(*) = max(seq) + 1 AND min(seq) = 0 AND count(*) = "
                          "(SELECT max(size) FROM checkpoints) FROM events"),
            "t\n");
  EXPECT_EQ(cluster.Query(uri,
                          "SELECT count(*) FROM blob_contents b WHERE b.chunks <> (SELECT count(*) "
                          "FROM blob_chunks c WHERE c.digest = b.digest) OR b.size <> (SELECT "
                          "coalesce(sum(length(c.data)), 0) FROM blob_chunks c WHERE c.digest = "
                          "b.digest)"),
            "0\n");
  EXPECT_EQ(cluster.Query(uri,
                          "SELECT count(*) FROM blob_chunks c WHERE NOT EXISTS (SELECT 1 FROM "
                          "blob_contents b WHERE b.digest = c.digest)"),
            "0\n");
}

}  // namespace graft::registry
