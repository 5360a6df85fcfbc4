#include "distributed/group.h"

#include <torch/torch.h>
#include <unistd.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>

#include "core/json.h"

namespace graft::distributed {
namespace {

using Clock = std::chrono::steady_clock;

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

bool IsLoopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

// A digest shortened for messages ("sha256:0123456789ab…").
std::string Short(const std::string& value) {
  return value.size() > 16 ? value.substr(0, 16) + "…" : value;
}

}  // namespace

struct Group::Impl {
  DistEnv env;
  std::string host;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
  int64_t gathers = 0;
  int64_t allreduce_bytes = 0;
  double allreduce_seconds = 0;

  // A collective's failure, as every caller reports it.
  Status Lost(const std::string& what, const std::exception& e) const {
    return InternalError(
        "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + ": " + what +
        " failed: another rank exited, or did not answer within " +
        std::to_string(env.timeout.count() / 1000) + " s (GRAFT_DIST_TIMEOUT): " + e.what());
  }
};

Group::Group(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Group::~Group() = default;

Result<std::unique_ptr<Group>> Group::Connect(const DistEnv& env) {
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->host = HostName();
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(env.master_port);
    options.isServer = env.rank == 0;
    options.numWorkers = static_cast<size_t>(env.world_size);
    options.waitWorkers = true;
    options.timeout = env.timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
    impl->store = c10::make_intrusive<c10d::PrefixStore>("graft", tcp);
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(env.timeout);
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (IsLoopback(env.master_addr)) {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    gloo_options->threads = 1;
    impl->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, env.rank, env.world_size,
                                                             gloo_options);
  } catch (const std::exception& e) {
    return InternalError("rank " + std::to_string(env.rank) + " of " +
                         std::to_string(env.world_size) + ": cannot meet the other ranks at " +
                         env.master_addr + ":" + std::to_string(env.master_port) + " within " +
                         std::to_string(env.timeout.count() / 1000) + " s: " + e.what());
  }
  return std::unique_ptr<Group>(new Group(std::move(impl)));
}

int Group::rank() const { return impl_->env.rank; }
int Group::world_size() const { return impl_->env.world_size; }
const std::string& Group::host() const { return impl_->host; }
int64_t Group::allreduce_bytes() const { return impl_->allreduce_bytes; }
double Group::allreduce_seconds() const { return impl_->allreduce_seconds; }

Status Group::AllReduceSum(at::Tensor& values) {
  const auto type = values.scalar_type();
  if ((type != torch::kFloat32 && type != torch::kFloat64) || !values.is_contiguous()) {
    return InternalError("AllReduceSum takes a contiguous float32 or float64 tensor");
  }
  const auto started = Clock::now();
  try {
    std::vector<at::Tensor> tensors{values};
    impl_->gloo->allreduce(tensors)->wait();
  } catch (const std::exception& e) {
    return impl_->Lost("all-reduce", e);
  }
  impl_->allreduce_seconds += std::chrono::duration<double>(Clock::now() - started).count();
  impl_->allreduce_bytes += static_cast<int64_t>(values.nbytes());
  return Status::Ok();
}

Status Group::Barrier() {
  try {
    impl_->gloo->barrier()->wait();
  } catch (const std::exception& e) {
    return impl_->Lost("barrier", e);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> Group::AllGather(std::string_view bytes) {
  // Through the store: each rank sets its key, then reads everyone's. The barrier keeps rank 0,
  // which serves the store, alive until every rank has read.
  const std::string prefix = "gather/" + std::to_string(impl_->gathers++) + "/";
  std::vector<std::string> out;
  try {
    impl_->store->set(prefix + std::to_string(rank()),
                      std::vector<uint8_t>(bytes.begin(), bytes.end()));
    for (int r = 0; r < world_size(); ++r) {
      std::vector<uint8_t> value = impl_->store->get(prefix + std::to_string(r));
      out.emplace_back(value.begin(), value.end());
    }
  } catch (const std::exception& e) {
    return impl_->Lost("exchange", e);
  }
  GRAFT_RETURN_IF_ERROR(Barrier());
  return out;
}

Result<std::vector<RankInputs>> Group::CheckInputs(
    const Status& local, const std::map<std::string, std::string>& digests) {
  Json mine = {{"host", impl_->host}, {"digests", digests}};
  if (!local.ok()) mine["error"] = local.message();
  GRAFT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(mine));
  GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> all, AllGather(text));
  if (!local.ok()) return local;
  std::vector<RankInputs> ranks;
  try {
    for (int r = 0; r < world_size(); ++r) {
      const Json report = Json::parse(all[static_cast<size_t>(r)]);
      RankInputs inputs{r, report.at("host").get<std::string>(),
                        report.at("digests").get<std::map<std::string, std::string>>()};
      const std::string who = "rank " + std::to_string(r) + " (" + inputs.host + ")";
      if (report.contains("error")) {
        return InvalidInput(who + " could not start: " + report["error"].get<std::string>());
      }
      ranks.push_back(std::move(inputs));
    }
  } catch (const Json::exception& e) {
    return InternalError(std::string("a rank's start-up report is malformed: ") + e.what());
  }
  const RankInputs& first = ranks.front();
  for (const RankInputs& other : ranks) {
    std::map<std::string, std::string> keys = first.digests;
    keys.insert(other.digests.begin(), other.digests.end());
    for (const auto& [key, unused] : keys) {
      auto a = first.digests.find(key);
      auto b = other.digests.find(key);
      const std::string ours = a == first.digests.end() ? "(none)" : a->second;
      const std::string theirs = b == other.digests.end() ? "(none)" : b->second;
      if (ours != theirs) {
        return Conflict("rank " + std::to_string(other.rank) + " (" + other.host +
                        ") differs from rank 0 (" + first.host + ") in " + key + ": " +
                        Short(theirs) + " there, " + Short(ours) +
                        " on rank 0; every rank must run the same inputs");
      }
    }
  }
  return ranks;
}

}  // namespace graft::distributed
