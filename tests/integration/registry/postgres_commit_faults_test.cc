// The two transient failures of a PostgreSQL registry that only the server's own timing makes,
// provoked for real: a deadlock with another session (the server aborts graft's transaction with
// 40P01) and a connection that breaks around COMMIT (the reply lost after the server committed,
// or the COMMIT lost before it arrived). Each change is applied exactly once, never twice.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/file_util.h"
#include "core/keys.h"
#include "registry/auditor.h"
#include "registry/database.h"
#include "registry/postgres_database.h"
#include "registry/registry.h"
#include "tests/integration/registry/postgres_fault_helpers.h"

namespace graft::registry {
namespace {
namespace fs = std::filesystem;
using testing::PostgresCluster;

// A TCP proxy on 127.0.0.1 in front of the test cluster. Connections pass through unchanged
// until a client opens a write transaction (its `pg_advisory_xact_lock`); that transaction's
// COMMIT is then broken once, by dropping both sides of the connection either before the
// COMMIT reaches the server (kCommitLost) or after the server answered it (kReplyLost).
// Connections made after that pass through unchanged.
class CommitBreakingProxy {
 public:
  enum class Break { kCommitLost, kReplyLost };

  CommitBreakingProxy(int server_port, Break how) : server_port_(server_port), how_(how) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = Loopback(0);
    if (listener_ < 0 || ::bind(listener_, Cast(&address), sizeof address) != 0 ||
        ::listen(listener_, 16) != 0) {
      return;
    }
    socklen_t length = sizeof address;
    ::getsockname(listener_, Cast(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~CommitBreakingProxy() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    for (std::thread& relay : relays_) relay.join();
    if (listener_ >= 0) ::close(listener_);
  }
  CommitBreakingProxy(const CommitBreakingProxy&) = delete;
  CommitBreakingProxy& operator=(const CommitBreakingProxy&) = delete;

  int port() const { return port_; }
  bool broke() const { return broke_; }

 private:
  static sockaddr* Cast(sockaddr_in* address) { return reinterpret_cast<sockaddr*>(address); }
  static sockaddr_in Loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }
  // Whether fd is readable within 100 ms (so that the threads notice stop_).
  static bool Readable(int fd) {
    pollfd wanted{fd, POLLIN, 0};
    return ::poll(&wanted, 1, 100) > 0;
  }
  static bool SendAll(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
  }

  void Accept() {
    while (!stop_) {
      if (!Readable(listener_)) continue;
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address = Loopback(server_port_);
      if (server < 0 || ::connect(server, Cast(&address), sizeof address) != 0) {
        ::close(client);
        if (server >= 0) ::close(server);
        continue;
      }
      relays_.emplace_back([this, client, server] { Relay(client, server); });
    }
  }

  // Copies bytes both ways until either side closes; watches the client's bytes for the write
  // transaction and its COMMIT (a simple-query message: 'Q', length 11, "COMMIT\0").
  void Relay(int client, int server) {
    static constexpr std::string_view kWriteBegins = "pg_advisory_xact_lock(";
    static constexpr std::string_view kCommit{
        "Q\0\0\0\x0b"
        "COMMIT\0",
        12};
    std::string seen;  // the client's bytes since the last match, for patterns split by reads
    bool armed = false, awaiting_reply = false;
    std::vector<char> buffer(1 << 16);
    while (!stop_) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(fds, 2, 100) <= 0) continue;
      if (fds[0].revents != 0) {
        ssize_t got = ::recv(client, buffer.data(), buffer.size(), 0);
        if (got <= 0) break;
        std::string_view bytes(buffer.data(), static_cast<size_t>(got));
        if (!broke_) {
          seen.append(bytes);
          if (!armed && seen.find(kWriteBegins) != std::string::npos) {
            armed = true;
            seen.erase(0, seen.find(kWriteBegins) + kWriteBegins.size());
          }
          if (armed && seen.find(kCommit) != std::string::npos) {
            if (how_ == Break::kCommitLost) {
              broke_ = true;  // the server never sees this COMMIT
              break;
            }
            awaiting_reply = true;
          }
          if (seen.size() > 64) seen.erase(0, seen.size() - 64);
        }
        if (!SendAll(server, bytes)) break;
      }
      if (fds[1].revents != 0) {
        ssize_t got = ::recv(server, buffer.data(), buffer.size(), 0);
        if (got <= 0) break;
        if (awaiting_reply) {
          broke_ = true;  // the server committed; its answer never reaches the client
          break;
        }
        if (!SendAll(client, std::string_view(buffer.data(), static_cast<size_t>(got)))) break;
      }
    }
    ::close(client);
    ::close(server);
  }

  int server_port_;
  Break how_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> broke_{false};
  std::thread acceptor_;
  std::vector<std::thread> relays_;  // only the acceptor adds; joined after it ended
};

// The cluster's URI for `uri`'s database and user, through `port` instead of the server's.
std::string ThroughPort(const std::string& uri, int server_port, int port) {
  std::string through = uri;
  const std::string from = ":" + std::to_string(server_port) + "/";
  through.replace(through.find(from), from.size(), ":" + std::to_string(port) + "/");
  return through + "?sslmode=disable&gssencmode=disable";
}

void ExpectAppliedOnceAcrossABrokenCommit(CommitBreakingProxy::Break how) {
  PostgresCluster& cluster = PgCluster();
  const std::string uri = cluster.CreateDatabase();
  const uint64_t size = Registry::Init(uri).value().LogSize().value();
  CommitBreakingProxy proxy(cluster.port(), how);
  ASSERT_NE(proxy.port(), 0);
  Registry registry = Registry::Open(ThroughPort(uri, cluster.port(), proxy.port())).value();
  Result<uint64_t> appended = registry.AppendEvent("test.note", {{"n", 1}});
  EXPECT_TRUE(proxy.broke());
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  // Exactly once: a change rerun after a committed-but-unanswered COMMIT would be a second
  // event, a change given up after a lost COMMIT none.
  Registry direct = Registry::Open(uri).value();
  EXPECT_EQ(direct.LogSize().value(), size + 1);
  EXPECT_EQ(cluster.Query(uri, "SELECT count(*) FROM events WHERE body LIKE '%test.note%'"), "1\n");
  ExpectWholeLog(cluster, uri);
  AuditReport audit = Auditor(direct).Run().value();
  EXPECT_TRUE(audit.ok()) << audit.ToJson().dump(2);
}

TEST(PostgresCommitFaults, ACommitWhoseReplyIsLostIsFoundCommittedAndNotRunAgain) {
  ExpectAppliedOnceAcrossABrokenCommit(CommitBreakingProxy::Break::kReplyLost);
}

TEST(PostgresCommitFaults, ACommitLostBeforeTheServerIsRunAgainOnce) {
  ExpectAppliedOnceAcrossABrokenCommit(CommitBreakingProxy::Break::kCommitLost);
}

int Deadlocks(const PostgresCluster& cluster, const std::string& uri) {
  std::string count = cluster.Query(
      uri, "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");
  return count.empty() ? -1 : std::stoi(count);
}

TEST(PostgresCommitFaults, ADeadlockWithAnotherSessionIsRunAgainAndAppliedOnce) {
  PostgresCluster& cluster = PgCluster();
  const std::string uri = cluster.CreateDatabase();
  const uint64_t size = Registry::Init(uri).value().LogSize().value();
  const int deadlocks_before = Deadlocks(cluster, uri);
  TempDir temp("graft-pg-deadlock");
  PrivateKey key = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  ASSERT_TRUE(WriteFileAtomic(temp.path() / "e.pub", key.public_key().ToPem()).ok());
  // Another session holds the checkpoints table, which graft's change writes last, and detects
  // deadlocks late, so that graft's session (after the default 1 s) is the one the server aborts.
  Database holder = Database::Connect(uri).value();
  ASSERT_TRUE(holder.Exec("SET deadlock_timeout = '60s'").ok());
  ASSERT_TRUE(holder.Exec("BEGIN; LOCK TABLE checkpoints IN EXCLUSIVE MODE").ok());
  const fs::path err = temp.path() / "err";
  pid_t pid = SpawnGraft({"key", "trust", (temp.path() / "e.pub").string(), "--role", "evaluator",
                          "--name", "eve", "--registry", uri},
                         err);
  ASSERT_TRUE(WaitForLockWaiters(cluster, uri, 1));
  // graft holds the write lock and waits for the table; the holder now waits for the write
  // lock, which it gets once the server has aborted graft's transaction.
  Status holder_locked =
      holder.Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) + ")");
  ASSERT_TRUE(holder_locked.ok()) << holder_locked.ToString();
  ASSERT_TRUE(holder.Exec("COMMIT").ok());
  EXPECT_EQ(WaitExit(pid), 0) << ReadText(err);
  int deadlocks = deadlocks_before;
  for (int i = 0; i < 150 && deadlocks == deadlocks_before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // statistics are flushed late
    deadlocks = Deadlocks(cluster, uri);
  }
  EXPECT_EQ(deadlocks, deadlocks_before + 1);
  Registry registry = Registry::Open(uri).value();
  EXPECT_EQ(registry.LogSize().value(), size + 1);  // the rerun, once
  ExpectWholeLog(cluster, uri);
  AuditReport audit = Auditor(registry).Run().value();
  EXPECT_TRUE(audit.ok()) << audit.ToJson().dump(2);
}

}  // namespace
}  // namespace graft::registry
