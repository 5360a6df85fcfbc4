// Test support: a throwaway PostgreSQL cluster (initdb in a temporary directory, pg_ctl on a free
// 127.0.0.1 port) for registry tests on the PostgreSQL backend, stopped and removed at the end.
#pragma once

#include <filesystem>
#include <string>

#include "tests/support/cli_runner.h"

namespace graft::testing {

// The cluster runs as the invoking user, or, when that is root (CI), as the `postgres` system
// user (created by Debian's postgresql package; else `nobody`) through runuser, since the server
// refuses to run as root. Its superuser is `graft` with password kPostgresPassword (TCP
// connections need it); fsync is off (a test cluster).
class PostgresCluster {
 public:
  static constexpr const char* kPassword = "graft-test-password";

  // The cluster shared by every test of this process, started on first use and stopped when the
  // process exits (also after failed tests). Fails the calling test when it cannot start.
  static PostgresCluster& Shared();

  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;
  ~PostgresCluster();  // pg_ctl stop -m immediate, then the directory is removed

  bool running() const { return running_; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  // A new empty database; its URI (as the superuser, with the password).
  std::string CreateDatabase();
  // The URI of database `db` as `user` with `password`.
  std::string Uri(const std::string& db, const std::string& user = "graft",
                  const std::string& password = kPassword) const;
  // Runs SQL with psql (ON_ERROR_STOP) on the database at `uri`.
  CliResult Psql(const std::string& uri, const std::string& sql) const;
  // The number of relations in the current schema of the database at `uri` (0: an empty
  // database), or -1 when psql fails.
  int Relations(const std::string& uri) const;
  // Restarts the server (pg_ctl restart), e.g. in the middle of a command.
  bool Restart();
  // Stops the server (pg_ctl stop -m fast: open sessions are terminated, transactions rolled
  // back), and starts it again on the same port.
  bool Stop();
  bool Start();
  // Runs SQL as the superuser on database `db` and returns psql's unaligned output (one value a
  // line), or "" when it failed.
  std::string Query(const std::string& db_uri, const std::string& sql) const;

 private:
  PostgresCluster();
  CliResult RunAsOwner(const std::filesystem::path& binary, const std::vector<std::string>& args);
  std::filesystem::path Data() const { return dir_ / "data"; }
  std::filesystem::path bin_;
  std::filesystem::path dir_;
  std::string owner_;  // empty: this user
  int port_ = 0;
  int next_db_ = 0;
  bool running_ = false;
  std::string error_;
};

}  // namespace graft::testing
