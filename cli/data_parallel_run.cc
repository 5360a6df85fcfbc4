// Joining the data-parallel group (graft-model only: it links libtorch's c10d). See
// cli/data_parallel.h; no runner is registered here.
#include "cli/data_parallel.h"
#include "distributed/group.h"

namespace graft::cli {

Result<std::unique_ptr<distributed::Group>> JoinGroup() {
  GRAFT_ASSIGN_OR_RETURN(std::optional<distributed::DistEnv> env,
                         distributed::DistEnv::FromEnvironment());
  if (!env) return std::unique_ptr<distributed::Group>();
  return distributed::Group::Connect(*env);
}

}  // namespace graft::cli
