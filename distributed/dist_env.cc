#include "distributed/dist_env.h"

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace graft::distributed {
namespace {

// The integer in environment variable `name` (in [low, high]); nullopt when unset.
Result<std::optional<long>> IntVariable(const char* name, long low, long high) {
  const char* text = std::getenv(name);
  if (text == nullptr) return std::optional<long>();
  const std::string_view view(text);
  long value = 0;
  auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (view.empty() || error != std::errc() || end != view.data() + view.size() || value < low ||
      value > high) {
    return InvalidInput("environment variable " + std::string(name) + "=\"" + std::string(view) +
                        "\": expected an integer in [" + std::to_string(low) + ", " +
                        std::to_string(high) + "]");
  }
  return std::optional<long>(value);
}

}  // namespace

Result<std::optional<DistEnv>> DistEnv::FromEnvironment() {
  GRAFT_ASSIGN_OR_RETURN(std::optional<long> world, IntVariable("WORLD_SIZE", 1, 1 << 16));
  if (!world || *world == 1) return std::optional<DistEnv>();
  DistEnv env;
  env.world_size = static_cast<int>(*world);
  GRAFT_ASSIGN_OR_RETURN(std::optional<long> rank, IntVariable("RANK", 0, *world - 1));
  if (!rank) return InvalidInput("WORLD_SIZE is " + std::to_string(*world) + " but RANK is unset");
  env.rank = static_cast<int>(*rank);
  GRAFT_ASSIGN_OR_RETURN(std::optional<long> local, IntVariable("LOCAL_RANK", 0, *world - 1));
  env.local_rank = static_cast<int>(local.value_or(0));
  const char* addr = std::getenv("MASTER_ADDR");
  if (addr == nullptr || *addr == '\0') {
    return InvalidInput("WORLD_SIZE is " + std::to_string(*world) +
                        " but MASTER_ADDR (rank 0's address) is unset");
  }
  env.master_addr = addr;
  GRAFT_ASSIGN_OR_RETURN(std::optional<long> port, IntVariable("MASTER_PORT", 1, 65535));
  if (!port) {
    return InvalidInput("WORLD_SIZE is " + std::to_string(*world) + " but MASTER_PORT is unset");
  }
  env.master_port = static_cast<int>(*port);
  GRAFT_ASSIGN_OR_RETURN(std::optional<long> timeout, IntVariable("GRAFT_DIST_TIMEOUT", 1, 86400));
  if (timeout) env.timeout = std::chrono::seconds(*timeout);
  return std::optional<DistEnv>(env);
}

}  // namespace graft::distributed
