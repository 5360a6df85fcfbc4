// Registry benchmark: registers N small adapters and fills the log to M events, then times list,
// lineage, inclusion proofs and a full audit. Usage: graft_registry_bench [ADAPTERS] [EVENTS] [DIR]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/file_util.h"
#include "registry/auditor.h"
#include "registry/event_log.h"
#include "registry/lineage.h"
#include "registry/merkle_tree.h"
#include "registry/registry.h"
#include "registry/transaction.h"
#include "tests/support/peft_fixture.h"

namespace {

using namespace graft;
using namespace graft::registry;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

template <typename T>
T Must(Result<T> result, const char* what) {
  if (!result.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, result.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(result).value();
}

// Median of `runs` timings of `body` in milliseconds.
template <typename F>
double MedianMs(int runs, F body) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    body(i);
    times.push_back(Ms(start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int adapters = argc > 1 ? std::atoi(argv[1]) : 10000;
  uint64_t events = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 100000;
  TempDir temp("graft-registry-bench");
  // The synthetic adapters are written in memory-backed scratch space when there is one: their
  // preparation is not what is measured.
  TempDir scratch(fs::exists("/dev/shm") ? "/dev/shm/graft-bench" : "graft-bench-scratch");
  fs::path root = argc > 3 ? fs::path(argv[3]) : temp.path() / "registry";

  Registry reg = Must(Registry::Init(root), "init");
  PrivateKey trainer = Must(PrivateKey::Generate(KeyAlgorithm::kEd25519), "key");
  Must(reg.TrustKey(trainer.public_key(), "trainer", "bench"), "trust");
  if (!testing::WriteTinyGpt2Base(temp.path() / "base").ok()) return 1;
  ObjectRecord base = Must(reg.RegisterBase(temp.path() / "base", "tiny"), "base");

  // Adapters: signed, with provenance; 10 names, so each name has adapters/10 versions.
  double prepare_ms = 0;
  auto start = Clock::now();
  for (int i = 0; i < adapters; ++i) {
    auto prepare = Clock::now();
    fs::path dir = scratch.path() / "adapter";
    fs::remove_all(dir);
    testing::LoraShape shape;
    shape.seed = i;
    shape.n_layer = 1;
    if (!testing::WriteLoraAdapter(dir, shape).ok()) return 1;
    testing::ProvenanceInputs inputs;
    inputs.base_digest = base.digest;
    inputs.run_id = "run-" + std::to_string(i);
    if (!testing::WriteProvenance(dir, trainer, inputs).ok()) return 1;
    if (!testing::SignAdapter(dir, trainer).ok()) return 1;
    prepare_ms += Ms(prepare);
    AdapterOptions options;
    options.name = "bot-" + std::to_string(i % 10);
    Must(reg.RegisterAdapter(dir, options), "register adapter");
  }
  double register_ms = Ms(start) - prepare_ms;
  uint64_t after_adapters = Must(reg.LogSize(), "size");

  // Filler events up to `events`, in batches (through the log directly: this measures the
  // log's scale, not fsync latency).
  start = Clock::now();
  EventLog log(reg.db());
  for (uint64_t seq = after_adapters; seq < events;) {
    Transaction tx = Must(Transaction::Begin(reg.db()), "begin");
    for (int n = 0; n < 5000 && seq < events; ++n, ++seq) {
      Must(log.Append("bench.filler", "bench@host", {{"n", seq}}), "append");
    }
    if (!tx.Commit().ok()) return 1;
  }
  double fill_ms = Ms(start);
  // One more change through the API so the latest checkpoint covers everything.
  Must(reg.AppendEvent("bench.done", {{"events", events}}), "append");
  uint64_t size = Must(reg.LogSize(), "size");

  ObjectFilter by_name;
  by_name.kind = "adapter";
  by_name.name = "bot-3";
  ObjectFilter all;
  all.kind = "adapter";
  ObjectFilter by_base = all;
  by_base.base_digest = base.digest;
  size_t listed = 0;
  double list_name_ms = MedianMs(21, [&](int) { listed = Must(reg.List(by_name), "list").size(); });
  double list_all_ms = MedianMs(5, [&](int) { Must(reg.List(all), "list"); });
  double list_base_ms = MedianMs(5, [&](int) { Must(reg.List(by_base), "list"); });
  std::string target =
      Must(reg.Resolve("adapter", "bot-7@" + std::to_string(adapters / 20 + 1)), "resolve").digest;
  double lineage_ms = MedianMs(21, [&](int) {
    Lineage lineage = Must(Lineage::Of(reg, target), "lineage");
    (void)lineage.ToText();
  });
  double uses_ms = MedianMs(3, [&](int) { Must(Lineage::Uses(reg, base.digest), "uses"); });
  double resolve_ms =
      MedianMs(21, [&](int) { Must(reg.Resolve("adapter", target.substr(0, 12)), "resolve"); });

  Checkpoint checkpoint =
      Must(reg.VerifyCheckpoint(Must(reg.LatestCheckpoint(), "checkpoint")), "verify checkpoint");
  size_t proof_hashes = 0;
  double prove_ms = MedianMs(101, [&](int i) {
    proof_hashes = Must(reg.ProveInclusion((uint64_t(i) * 7919) % size), "prove").path.size();
  });
  InclusionProof proof = Must(reg.ProveInclusion(size / 3), "prove");
  auto verify_start = Clock::now();
  int verify_runs = 10000;
  bool all_ok = true;
  for (int i = 0; i < verify_runs; ++i) {
    all_ok &=
        VerifyInclusion(proof.leaf_hash, proof.index, proof.size, proof.path, checkpoint.root);
  }
  double verify_us = Ms(verify_start) * 1000.0 / verify_runs;

  start = Clock::now();
  AuditReport report = Must(Auditor(reg).Run(), "audit");
  double audit_ms = Ms(start);

  std::printf("adapters registered:        %d (signed + provenance) in %.1f s = %.1f adapters/s\n",
              adapters, register_ms / 1000, adapters / (register_ms / 1000));
  std::printf("  (preparing the signed PEFT dirs took another %.1f s, not counted)\n",
              prepare_ms / 1000);
  std::printf(
      "log events:                 %llu (%llu from registrations; filler appended at %.0f "
      "events/s)\n",
      (unsigned long long)size, (unsigned long long)after_adapters,
      (events - after_adapters) / (fill_ms / 1000));
  std::printf("adapter list --name:        %.2f ms (%zu adapters)\n", list_name_ms, listed);
  std::printf("adapter list --base:        %.2f ms (all %d)\n", list_base_ms, adapters);
  std::printf("adapter list (all):         %.2f ms\n", list_all_ms);
  std::printf("resolve digest prefix:      %.3f ms\n", resolve_ms);
  std::printf("lineage REF (text):         %.2f ms\n", lineage_ms);
  std::printf("lineage --uses base:        %.2f ms (%d dependents)\n", uses_ms, adapters);
  std::printf(
      "inclusion proof:            %zu hashes (%zu bytes), generated in %.3f ms, "
      "verified in %.1f us%s\n",
      proof_hashes, proof_hashes * 32, prove_ms, verify_us, all_ok ? "" : " (FAILED)");
  std::printf("audit verify:               %.1f s (%s)\n", audit_ms / 1000,
              report.ok() ? "passed" : "FAILED");
  for (const auto& line : report.checked) std::printf("  checked: %s\n", line.c_str());
  for (const auto& line : report.problems) std::printf("  problem: %s\n", line.c_str());
  return report.ok() && all_ok ? 0 : 1;
}
