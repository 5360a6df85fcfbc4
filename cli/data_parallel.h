// Data-parallel model commands: the --nproc option, its local launcher, and joining the ranks'
// group from torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT).
#pragma once

#include <memory>
#include <optional>

#include "cli/command.h"

namespace graft::distributed {
class Group;
}

namespace graft::cli {

// --nproc N (train, eval, gate).
void AddNprocOption(po::options_description& options);

// With --nproc N > 1: runs this command line (without --nproc) in N local worker processes of
// this executable, with RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1 and a free
// MASTER_PORT set, forwards SIGINT and SIGTERM to them, and returns their exit code (rank 0's,
// or the first failing rank's when rank 0 succeeded). nullopt: no --nproc (or 1), run here.
Result<std::optional<int>> LaunchLocalWorkers(const po::variables_map& vm);

// Started as a worker (WORLD_SIZE > 1 in the environment): the group after the rendezvous;
// null for a single process. graft-model only (cli/data_parallel_run.cc).
Result<std::unique_ptr<distributed::Group>> JoinGroup();

}  // namespace graft::cli
