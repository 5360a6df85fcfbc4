// Group: the ranks of a data-parallel run, connected through libtorch's c10d (TCPStore, Gloo).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "distributed/dist_env.h"

namespace at {
class Tensor;
}

namespace graft::distributed {

// What one rank reported at the rendezvous: its host and the digests of its inputs.
struct RankInputs {
  int rank = 0;
  std::string host;
  std::map<std::string, std::string> digests;
};

// Every call is collective: all ranks make the same calls in the same order. A rank that died,
// or waits longer than the timeout, makes the call fail on the others with an Internal error
// that says so (never a hang).
class Group {
 public:
  // Rendezvous at MASTER_ADDR:MASTER_PORT (rank 0 serves the TCPStore there), then a Gloo
  // process group. Gloo binds the loopback address when MASTER_ADDR is a loopback address, the
  // interface GLOO_SOCKET_IFNAME names when set, and otherwise the host name's address.
  static Result<std::unique_ptr<Group>> Connect(const DistEnv& env);
  ~Group();

  int rank() const;
  int world_size() const;
  bool leader() const { return rank() == 0; }
  const std::string& host() const;

  // Sums a contiguous float32 or float64 CPU tensor across ranks, in place (every rank gets the
  // same bits).
  Status AllReduceSum(at::Tensor& values);
  // Every rank's `bytes`, indexed by rank.
  Result<std::vector<std::string>> AllGather(std::string_view bytes);
  Status Barrier();
  // The start-up check: `local` is how this rank's own preparation went and `digests` name its
  // inputs (base, data, suite, config, graft version...). Fails on every rank when any rank
  // failed or reported a digest other than rank 0's, naming the rank, its host and the
  // difference; otherwise returns every rank's report.
  Result<std::vector<RankInputs>> CheckInputs(const Status& local,
                                              const std::map<std::string, std::string>& digests);

  // Totals over AllReduceSum calls (for the benchmark and the progress line).
  int64_t allreduce_bytes() const;
  double allreduce_seconds() const;

 private:
  struct Impl;
  explicit Group(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace graft::distributed
