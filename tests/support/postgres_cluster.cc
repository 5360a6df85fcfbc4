#include "tests/support/postgres_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <system_error>

namespace graft::testing {
namespace fs = std::filesystem;

namespace {

// The newest /usr/lib/postgresql/<version>/bin holding initdb.
fs::path ServerBinaries() {
  std::error_code error;
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", error)) {
    if (fs::exists(entry.path() / "bin" / "initdb", error)) found.push_back(entry.path() / "bin");
  }
  if (found.empty()) return {};
  std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoi(a.parent_path().filename()) < std::stoi(b.parent_path().filename());
  });
  return found.back();
}

// A port that was free a moment ago (the kernel's pick for 127.0.0.1:0).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

PostgresCluster& PostgresCluster::Shared() {
  static PostgresCluster cluster;  // destroyed at exit: the server is stopped
  return cluster;
}

CliResult PostgresCluster::RunAsOwner(const fs::path& binary,
                                      const std::vector<std::string>& args) {
  if (owner_.empty()) return RunBinary(binary, args);
  std::vector<std::string> wrapped = {"-u", owner_, "--", binary.string()};
  wrapped.insert(wrapped.end(), args.begin(), args.end());
  return RunBinary("/usr/sbin/runuser", wrapped);
}

PostgresCluster::PostgresCluster() {
  bin_ = ServerBinaries();
  if (bin_.empty()) {
    error_ =
        "no PostgreSQL server binaries under /usr/lib/postgresql (scripts/setup installs them)";
    return;
  }
  std::string pattern = (fs::temp_directory_path() / "graft-pg-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    error_ = "cannot create a temporary directory";
    return;
  }
  dir_ = pattern;
  if (::geteuid() == 0) {
    owner_ = ::getpwnam("postgres") != nullptr ? "postgres" : "nobody";
    struct passwd* pw = ::getpwnam(owner_.c_str());
    if (pw == nullptr || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      error_ = "cannot hand " + dir_.string() + " to " + owner_;
      return;
    }
  }
  {
    std::ofstream pw(dir_ / "pwfile");
    pw << kPassword << "\n";
  }
  if (!owner_.empty()) {
    struct passwd* pw = ::getpwnam(owner_.c_str());
    if (::chown((dir_ / "pwfile").c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      error_ = "cannot hand the password file to " + owner_;
      return;
    }
  }
  CliResult init = RunAsOwner(
      bin_ / "initdb",
      {"-D", (dir_ / "data").string(), "-U", "graft", "--pwfile", (dir_ / "pwfile").string(),
       "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"});
  if (init.exit_code != 0) {
    error_ = "initdb failed: " + init.out + init.err;
    return;
  }
  for (int attempt = 0; attempt < 3 && !running_; ++attempt) {
    port_ = FreePort();
    Start();
  }
}

bool PostgresCluster::Start() {
  CliResult start = RunAsOwner(
      bin_ / "pg_ctl",
      {"-D", Data().string(), "-l", (dir_ / "server.log").string(), "-w", "-t", "60", "-o",
       "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_.string() +
           " -c fsync=off -c full_page_writes=off -c synchronous_commit=off",
       "start"});
  running_ = start.exit_code == 0;
  if (!running_) error_ = "pg_ctl start failed: " + start.out + start.err;
  return running_;
}

bool PostgresCluster::Stop() {
  CliResult stop = RunAsOwner(bin_ / "pg_ctl", {"-D", Data().string(), "-m", "fast", "-w", "stop"});
  running_ = stop.exit_code != 0;
  return !running_;
}

std::string PostgresCluster::Query(const std::string& db_uri, const std::string& sql) const {
  CliResult result = RunBinary(
      "/usr/bin/psql", {"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db_uri, "-c", sql});
  return result.exit_code == 0 ? result.out : "";
}

PostgresCluster::~PostgresCluster() {
  if (running_) {
    RunAsOwner(bin_ / "pg_ctl", {"-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"});
  }
  std::error_code ignored;
  if (!dir_.empty()) fs::remove_all(dir_, ignored);
}

std::string PostgresCluster::Uri(const std::string& db, const std::string& user,
                                 const std::string& password) const {
  return "postgresql://" + user + ":" + password + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string PostgresCluster::CreateDatabase() {
  std::string name = "graft_test_" + std::to_string(::getpid()) + "_" + std::to_string(++next_db_);
  CliResult created = Psql(Uri("postgres"), "CREATE DATABASE " + name);
  if (created.exit_code != 0) return {};
  return Uri(name);
}

CliResult PostgresCluster::Psql(const std::string& uri, const std::string& sql) const {
  return RunBinary("/usr/bin/psql", {"-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", uri, "-c", sql});
}

int PostgresCluster::Relations(const std::string& uri) const {
  CliResult count = RunBinary(
      "/usr/bin/psql",
      {"-X", "-q", "-t", "-A", "-d", uri, "-c",
       "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
       "n.nspname = current_schema()"});
  return count.exit_code == 0 ? std::atoi(count.out.c_str()) : -1;
}

bool PostgresCluster::Restart() {
  CliResult restart =
      RunAsOwner(bin_ / "pg_ctl", {"-D", Data().string(), "-m", "fast", "-w", "restart"});
  running_ = restart.exit_code == 0;
  return running_;
}

}  // namespace graft::testing
