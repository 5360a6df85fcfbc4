// Faults on a PostgreSQL registry with the real server and the real graft binary: writer
// processes killed (-9) at random points, the server stopped in the middle of a command, a
// connection dropped in the middle of a change or while idle. Nothing is ever half-applied, the
// errors are clear, and what can be retried is.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

#include "core/file_util.h"
#include "core/keys.h"
#include "registry/auditor.h"
#include "registry/registry.h"
#include "tests/integration/registry/postgres_fault_helpers.h"
#include "tests/support/peft_fixture.h"

namespace graft::registry {
namespace {
namespace fs = std::filesystem;
using testing::PostgresCluster;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A dataset file of about `bytes` bytes whose content is unique to `id`.
fs::path DatasetFile(const fs::path& dir, int id, size_t bytes) {
  std::string text;
  for (int line = 0; text.size() < bytes; ++line) {
    text += "{\"id\": " + std::to_string(id) + ", \"line\": " + std::to_string(line) +
            ", \"text\": \"the quick brown fox jumps over the lazy dog\"}\n";
  }
  fs::path file = dir / ("d" + std::to_string(id) + ".jsonl");
  EXPECT_TRUE(WriteFileAtomic(file, text).ok());
  return file;
}

TEST(PostgresFaults, WritersKilledAtRandomPointsLeaveNothingHalfWritten) {
  PostgresCluster& cluster = PgCluster();
  const std::string uri = cluster.CreateDatabase();
  TempDir temp("graft-pg-kill");
  std::vector<fs::path> adapters;
  {
    Registry registry = Registry::Init(uri).value();
    PrivateKey trainer = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
    ASSERT_TRUE(registry.TrustKey(trainer.public_key(), "trainer", "t").ok());
    ASSERT_TRUE(testing::WriteTinyGpt2Base(temp.path() / "base").ok());
    ObjectRecord base = registry.RegisterBase(temp.path() / "base", "tiny").value();
    for (int i = 0; i < 40; ++i) {
      fs::path dir = temp.path() / ("adapter" + std::to_string(i));
      testing::LoraShape shape;
      shape.seed = 1000 + i;
      ASSERT_TRUE(testing::WriteLoraAdapter(dir, shape).ok());
      testing::ProvenanceInputs inputs;
      inputs.base_digest = base.digest;
      inputs.run_id = "run-" + std::to_string(i);
      ASSERT_TRUE(testing::WriteProvenance(dir, trainer, inputs).ok());
      ASSERT_TRUE(testing::SignAdapter(dir, trainer).ok());
      adapters.push_back(dir);
    }
  }
  // Killed writers leave their staging directories behind: in the test's directory.
  fs::create_directories(temp.path() / "tmp");
  const char* tmpdir = std::getenv("TMPDIR");
  const std::string saved_tmpdir = tmpdir != nullptr ? tmpdir : "";
  ::setenv("TMPDIR", (temp.path() / "tmp").c_str(), 1);
  std::mt19937 random(20261203);
  int kills = 0, completed = 0, spawned = 0;
  size_t next_adapter = 0;  // each adapter is registered once
  std::vector<std::string> failures;
  // Rounds of six concurrent writers, each killed at a random moment of its first second:
  // before it connects, while it stages or streams its chunks, while it waits for the write
  // lock, around its commit, or after it finished.
  for (int round = 0; round < 200 && kills < 110; ++round) {
    struct Writer {
      pid_t pid;
      fs::path err;
      int delay_ms;
    };
    std::vector<Writer> writers;
    for (int w = 0; w < 6; ++w) {
      const int id = round * 6 + w;
      const bool adapter = random() % 3 == 0 && next_adapter < adapters.size();
      std::vector<std::string> args;
      if (adapter) {
        args = {"adapter", "register", adapters[next_adapter++].string(), "--name", "bot"};
      } else {
        fs::path file = DatasetFile(temp.path(), id, 10'000 + random() % 3'000'000);
        args = {"dataset", "register", file.string(), "--name", "d" + std::to_string(id % 7)};
      }
      args.insert(args.end(), {"--registry", uri});
      fs::path err = temp.path() / ("err" + std::to_string(id));
      writers.push_back({SpawnGraft(args, err), err, static_cast<int>(random() % 1000)});
      ++spawned;
    }
    std::sort(writers.begin(), writers.end(),
              [](const Writer& a, const Writer& b) { return a.delay_ms < b.delay_ms; });
    const auto start = std::chrono::steady_clock::now();
    for (Writer& writer : writers) {
      std::this_thread::sleep_until(start + std::chrono::milliseconds(writer.delay_ms));
      ::kill(writer.pid, SIGKILL);
    }
    for (Writer& writer : writers) {
      const int code = WaitExit(writer.pid);
      if (code == 128 + SIGKILL) {
        ++kills;
        continue;
      }
      if (code == 0) {
        ++completed;
      } else {
        failures.push_back("exit " + std::to_string(code) + ": " + ReadText(writer.err));
      }
    }
  }
  if (saved_tmpdir.empty()) {
    ::unsetenv("TMPDIR");
  } else {
    ::setenv("TMPDIR", saved_tmpdir.c_str(), 1);
  }
  std::cout << "[kill] " << kills << " writers killed, " << completed << " completed, of "
            << spawned << "\n";
  EXPECT_GE(kills, 100);
  EXPECT_GT(completed, 0);
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();

  testing::CliResult audit = testing::RunGraft({"audit", "verify", "--registry", uri});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_TRUE(Contains(audit.out, "audit passed")) << audit.out;
  ExpectWholeLog(cluster, uri);
  const int64_t objects =
      std::stoll(cluster.Query(uri, "SELECT count(*) FROM objects WHERE kind <> 'base'"));
  EXPECT_GE(objects, completed);
  EXPECT_LE(objects, spawned);
}

TEST(PostgresFaults, ServerStoppedInTheMiddleOfARegistrationIsAClearErrorAndTheRerunWorks) {
  PostgresCluster& cluster = PgCluster();
  const std::string uri = cluster.CreateDatabase();
  ASSERT_TRUE(Registry::Init(uri).ok());
  TempDir temp("graft-pg-stop");
  const fs::path file = DatasetFile(temp.path(), 1, 3'000'000);
  const std::string before = Counts(cluster, uri);
  {
    // Another session holds the events table: the command gets past its write lock, stores its
    // blob chunks, and waits to append its event, in the middle of its change.
    Database holder = Database::Connect(uri).value();
    ASSERT_TRUE(holder.Exec("BEGIN; LOCK TABLE events IN EXCLUSIVE MODE").ok());
    const fs::path err = temp.path() / "err";
    pid_t pid =
        SpawnGraft({"dataset", "register", file.string(), "--name", "d", "--registry", uri}, err);
    ASSERT_TRUE(WaitForLockWaiters(cluster, uri, 1));
    ASSERT_TRUE(cluster.Stop());
    EXPECT_EQ(WaitExit(pid), 2);
    const std::string message = ReadText(err);
    EXPECT_TRUE(Contains(message, "lost the connection to the PostgreSQL registry")) << message;
    EXPECT_TRUE(
        Contains(message, "nothing of the change in progress was committed, run the command again"))
        << message;
    EXPECT_FALSE(Contains(message, PostgresCluster::kPassword)) << message;
  }
  ASSERT_TRUE(cluster.Start());
  EXPECT_EQ(Counts(cluster, uri), before);  // no event, object, blob or chunk
  testing::CliResult rerun =
      testing::RunGraft({"dataset", "register", file.string(), "--name", "d", "--registry", uri});
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  testing::CliResult audit = testing::RunGraft({"audit", "verify", "--registry", uri});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  ExpectWholeLog(cluster, uri);
}

TEST(PostgresFaults, AChangeWhoseConnectionIsDroppedMidwayIsRunAgainOnceFromTheStart) {
  PostgresCluster& cluster = PgCluster();
  const std::string uri = cluster.CreateDatabase();
  const uint64_t size = Registry::Init(uri).value().LogSize().value();
  TempDir temp("graft-pg-retry");
  PrivateKey key = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  ASSERT_TRUE(WriteFileAtomic(temp.path() / "e.pub", key.public_key().ToPem()).ok());
  Database holder = Database::Connect(uri).value();
  ASSERT_TRUE(holder.Exec("BEGIN; LOCK TABLE events IN EXCLUSIVE MODE").ok());
  const fs::path err = temp.path() / "err";
  pid_t pid = SpawnGraft({"key", "trust", (temp.path() / "e.pub").string(), "--role", "evaluator",
                          "--name", "eve", "--registry", uri},
                         err);
  ASSERT_TRUE(WaitForLockWaiters(cluster, uri, 1));
  // The server ends the waiting session (as an administrator, a failover or a network cut
  // would): graft connects again and runs the whole change again, which waits again.
  const std::string first = cluster.Query(uri, kLockWaiters + std::string(" LIMIT 1"));
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(cluster.Query(uri, "SELECT pg_terminate_backend(" + first + ")").empty());
  bool waits_again = false;
  for (int i = 0; i < 200 && !waits_again; ++i) {
    std::string now = cluster.Query(uri, kLockWaiters + std::string(" LIMIT 1"));
    waits_again = !now.empty() && now != first;
    if (!waits_again) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(waits_again);
  ASSERT_TRUE(holder.Exec("COMMIT").ok());
  EXPECT_EQ(WaitExit(pid), 0) << ReadText(err);
  Registry registry = Registry::Open(uri).value();
  EXPECT_EQ(registry.LogSize().value(), size + 1);  // applied once
  AuditReport audit = Auditor(registry).Run().value();
  EXPECT_TRUE(audit.ok()) << audit.ToJson().dump(2);
}

TEST(PostgresFaults, ReadsAndWritesGoOnAfterTheServerDropsAnIdleConnection) {
  PostgresCluster& cluster = PgCluster();
  const std::string uri = cluster.CreateDatabase();
  Registry registry = Registry::Init(uri).value();
  const uint64_t size = registry.LogSize().value();
  Registry reader = Registry::Open(uri).value();
  ASSERT_EQ(reader.LogSize().value(), size);
  // Every other session of the database is ended (an idle timeout, a restart behind a pooler).
  ASSERT_FALSE(cluster
                   .Query(uri,
                          "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                          "datname = current_database() AND pid <> pg_backend_pid()")
                   .empty());
  EXPECT_EQ(reader.LogSize().value(), size);
  Result<uint64_t> appended = registry.AppendEvent("test.note", {{"n", 1}});
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_EQ(reader.LogSize().value(), size + 1);
  // A restarted server too.
  ASSERT_TRUE(cluster.Restart());
  EXPECT_EQ(reader.LogSize().value(), size + 1);
  ASSERT_TRUE(registry.AppendEvent("test.note", {{"n", 2}}).ok());
  AuditReport audit = Auditor(reader).Run().value();
  EXPECT_TRUE(audit.ok()) << audit.ToJson().dump(2);
}

TEST(PostgresFaults, AStoppedServerIsAClearErrorForReadsAndChanges) {
  PostgresCluster& cluster = PgCluster();
  const std::string uri = cluster.CreateDatabase();
  Registry registry = Registry::Init(uri).value();
  ASSERT_TRUE(cluster.Stop());
  Result<uint64_t> size = registry.LogSize();
  Result<uint64_t> appended = registry.AppendEvent("test.note", {{"n", 1}});
  testing::CliResult list = testing::RunGraft({"adapter", "list", "--registry", uri});
  ASSERT_TRUE(cluster.Start());
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(size.status().message(), "could not connect again"))
      << size.status().message();
  ASSERT_FALSE(appended.ok());
  EXPECT_EQ(appended.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(
      Contains(appended.status().message(), "nothing of the change in progress was committed"))
      << appended.status().message();
  EXPECT_EQ(list.exit_code, 2);
  EXPECT_TRUE(Contains(list.err, "cannot connect to the PostgreSQL registry")) << list.err;
  EXPECT_TRUE(registry.AppendEvent("test.note", {{"n", 2}}).ok());
}

TEST(PostgresFaults, ChangesAgainstBadTargetsExitTwoWritingNothing) {
  PostgresCluster& cluster = PgCluster();
  TempDir temp("graft-pg-bad");
  const fs::path file = DatasetFile(temp.path(), 1, 100);
  const std::string foreign = cluster.CreateDatabase();
  ASSERT_EQ(cluster.Psql(foreign, "CREATE TABLE invoices(id int)").exit_code, 0);
  const std::string newer = cluster.CreateDatabase();
  ASSERT_TRUE(Registry::Init(newer).ok());
  ASSERT_EQ(cluster.Psql(newer, "UPDATE graft_schema SET version = 99").exit_code, 0);
  const std::string newer_before = Counts(cluster, newer);
  struct Case {
    std::string uri, message;
  };
  for (const Case& c : std::vector<Case>{
           {"postgresql://graft@[::1/x", "malformed PostgreSQL URI"},
           {"postgresql://graft:secret@127.0.0.1:0/x", "cannot connect to the PostgreSQL registry"},
           {cluster.Uri("postgres", "graft", "wrong-password"), "password authentication failed"},
           {cluster.Uri("no_such_db"), "database \"no_such_db\" does not exist"},
           {foreign, "has no graft schema"},
           {newer, "newer than this graft"},
       }) {
    testing::CliResult r = testing::RunGraft(
        {"dataset", "register", file.string(), "--name", "d", "--registry", c.uri});
    EXPECT_EQ(r.exit_code, 2) << c.uri << ": " << r.err;
    EXPECT_TRUE(Contains(r.err, c.message)) << r.err;
    EXPECT_FALSE(Contains(r.err, "wrong-password") || Contains(r.err, "secret")) << r.err;
  }
  EXPECT_EQ(Counts(cluster, newer), newer_before);
  EXPECT_EQ(cluster.Query(foreign,
                          "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = "
                          "'public'"),
            "invoices\n");
}

}  // namespace
}  // namespace graft::registry
