// Test helpers for faults and load on a PostgreSQL registry: graft processes that can be killed,
// and checks that a log was never half-written.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/postgres_cluster.h"

namespace graft::registry {

// The shared test cluster; fails the calling test when it is not running.
testing::PostgresCluster& PgCluster();

// Starts `graft args...` (stdout to /dev/null, stderr to `err`) without waiting for it.
pid_t SpawnGraft(const std::vector<std::string>& args, const std::filesystem::path& err);
// Waits for `pid`: its exit code, or 128 + the signal that ended it.
int WaitExit(pid_t pid);
// The text of `file` ("" when it cannot be read).
std::string ReadText(const std::filesystem::path& file);

// The backend pids of the database's sessions waiting for a lock, one a line.
inline constexpr const char* kLockWaiters =
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND "
    "wait_event_type = 'Lock' ORDER BY pid";
// Waits (up to 30 s) until `count` sessions of the database wait for a lock.
bool WaitForLockWaiters(const testing::PostgresCluster& cluster, const std::string& uri, int count);

// The number of events, objects, blobs and blob chunks, as one line (to compare before/after).
std::string Counts(const testing::PostgresCluster& cluster, const std::string& uri);

// The log was never half-written: sequence numbers 0..N-1 without a gap, the latest checkpoint
// covers all N events, every blob has all its chunks (sizes adding up) and no chunk lacks its
// blob.
void ExpectWholeLog(const testing::PostgresCluster& cluster, const std::string& uri);

}  // namespace graft::registry
