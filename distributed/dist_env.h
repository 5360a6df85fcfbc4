// DistEnv: where a data-parallel worker stands, read from torchrun's environment variables.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/status.h"

namespace graft::distributed {

// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT (torchrun's names), and
// GRAFT_DIST_TIMEOUT: seconds a collective or the rendezvous may wait for another rank.
struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr;
  int master_port = 0;
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};

  // The environment's worker, or nullopt when WORLD_SIZE is unset or 1 (a single process). A
  // malformed or inconsistent variable is an InvalidInput error naming it.
  static Result<std::optional<DistEnv>> FromEnvironment();
};

}  // namespace graft::distributed
