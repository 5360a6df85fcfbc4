// Registry benchmark: registers N small adapters and fills the log to M events, then times list,
// lineage, inclusion proofs and a full audit.
// Usage: graft_registry_bench [ADAPTERS] [EVENTS] [DIR] [--no-audit]
// When DIR already holds a registry (from an earlier run), it is opened (and so migrated to this
// build's schema) instead of being filled again: before/after figures then measure the same data.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
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
#include "tests/support/registry_test_access.h"

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

// Medians of `runs` timings of `body`: wall clock, and this process's CPU time (which a loaded,
// shared machine inflates far less than the wall clock).
struct Timing {
  double wall_ms = 0;
  double cpu_ms = 0;
};
template <typename F>
Timing Median(int runs, F body) {
  std::vector<double> wall, cpu;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    std::clock_t cpu_start = std::clock();
    body(i);
    cpu.push_back(1000.0 * static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC);
    wall.push_back(Ms(start));
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

void Print(const char* what, Timing t, const std::string& note = "") {
  std::printf("%-28s%.2f ms wall, %.2f ms cpu%s\n", what, t.wall_ms, t.cpu_ms, note.c_str());
}

// Fills a new registry: a trainer key, a tiny base, `adapters` signed adapters, then filler
// events up to `events`. Prints the registration and filler rates; returns the base.
ObjectRecord Fill(Registry& reg, int adapters, uint64_t events, const fs::path& work,
                  const fs::path& scratch_dir) {
  PrivateKey trainer = Must(PrivateKey::Generate(KeyAlgorithm::kEd25519), "key");
  Must(reg.TrustKey(trainer.public_key(), "trainer", "bench"), "trust");
  if (!testing::WriteTinyGpt2Base(work / "base").ok()) std::exit(1);
  ObjectRecord base = Must(reg.RegisterBase(work / "base", "tiny"), "base");

  // Adapters: signed, with provenance; 10 names, so each name has adapters/10 versions.
  double prepare_ms = 0;
  auto start = Clock::now();
  for (int i = 0; i < adapters; ++i) {
    auto prepare = Clock::now();
    fs::path dir = scratch_dir / "adapter";
    fs::remove_all(dir);
    testing::LoraShape shape;
    shape.seed = i;
    shape.n_layer = 1;
    if (!testing::WriteLoraAdapter(dir, shape).ok()) std::exit(1);
    testing::ProvenanceInputs inputs;
    inputs.base_digest = base.digest;
    inputs.run_id = "run-" + std::to_string(i);
    if (!testing::WriteProvenance(dir, trainer, inputs).ok()) std::exit(1);
    if (!testing::SignAdapter(dir, trainer).ok()) std::exit(1);
    prepare_ms += Ms(prepare);
    AdapterOptions options;
    options.name = "bot-" + std::to_string(i % 10);
    Must(reg.RegisterAdapter(dir, options), "register adapter");
  }
  double register_ms = Ms(start) - prepare_ms;
  uint64_t after_adapters = Must(reg.LogSize(), "size");
  std::printf("adapters registered:        %d (signed + provenance) in %.1f s = %.1f adapters/s\n",
              adapters, register_ms / 1000, adapters / (register_ms / 1000));
  std::printf("  (preparing the signed PEFT dirs took another %.1f s, not counted)\n",
              prepare_ms / 1000);

  // Filler events up to `events`, in batches (through the log directly: this measures the
  // log's scale, not fsync latency).
  start = Clock::now();
  EventLog log(RegistryTestAccess::db(reg));
  for (uint64_t seq = after_adapters; seq < events;) {
    Transaction tx = Must(Transaction::Begin(RegistryTestAccess::db(reg)), "begin");
    for (int n = 0; n < 5000 && seq < events; ++n, ++seq) {
      Must(log.Append("bench.filler", "bench@host", {{"n", seq}}), "append");
    }
    if (!tx.Commit().ok()) std::exit(1);
  }
  double fill_ms = Ms(start);
  // One more change through the API so the latest checkpoint covers everything.
  Must(reg.AppendEvent("bench.done", {{"events", events}}), "append");
  std::printf(
      "log events:                 %llu (%llu from registrations; filler appended at %.0f "
      "events/s)\n",
      (unsigned long long)Must(reg.LogSize(), "size"), (unsigned long long)after_adapters,
      (events - after_adapters) / (fill_ms / 1000));
  return base;
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

  bool reuse = fs::exists(root / kDatabaseFile);
  Registry reg = Must(reuse ? Registry::Open(root) : Registry::Init(root), "open");
  ObjectRecord base;
  if (reuse) {
    ObjectFilter bases;
    bases.kind = "base";
    base = Must(reg.List(bases), "bases").at(0);
    ObjectFilter all_adapters;
    all_adapters.kind = "adapter";
    adapters = static_cast<int>(Must(reg.List(all_adapters), "adapters").size());
    std::printf("reused registry %s: %d adapters, %llu events\n", root.c_str(), adapters,
                (unsigned long long)Must(reg.LogSize(), "size"));
  } else {
    base = Fill(reg, adapters, events, temp.path(), scratch.path());
  }
  uint64_t size = Must(reg.LogSize(), "size");

  // As `graft adapter list` asks: without info.
  ObjectFilter by_name{.kind = "adapter", .name = "bot-3", .with_info = false};
  ObjectFilter all{.kind = "adapter", .with_info = false};
  ObjectFilter by_base{.kind = "adapter", .base_digest = base.digest, .with_info = false};
  ObjectFilter all_with_info{.kind = "adapter"};
  size_t listed = 0;
  Timing list_name = Median(21, [&](int) { listed = Must(reg.List(by_name), "list").size(); });
  Timing list_all = Median(5, [&](int) { Must(reg.List(all), "list"); });
  Timing list_base = Median(5, [&](int) { Must(reg.List(by_base), "list"); });
  Timing list_info = Median(5, [&](int) { Must(reg.List(all_with_info), "list"); });
  std::string target =
      Must(reg.Resolve("adapter", "bot-7@" + std::to_string(adapters / 20 + 1)), "resolve").digest;
  Timing lineage =
      Median(21, [&](int) { (void)Must(Lineage::Of(reg, target), "lineage").ToText(); });
  Timing uses = Median(5, [&](int) { Must(Lineage::Uses(reg, base.digest), "uses"); });
  Timing uses_text =
      Median(5, [&](int) { (void)Must(Lineage::Uses(reg, base.digest), "uses").ToText(); });
  Timing resolve =
      Median(21, [&](int) { Must(reg.Resolve("adapter", target.substr(0, 12)), "resolve"); });
  Print("adapter list --name:", list_name, " (" + std::to_string(listed) + " adapters)");
  Print("adapter list --base:", list_base, " (all " + std::to_string(adapters) + ")");
  Print("adapter list (all):", list_all);
  Print("List with info (all):", list_info);
  Print("resolve digest prefix:", resolve);
  Print("lineage REF (text):", lineage);
  Print("lineage --uses base:", uses, " (" + std::to_string(adapters) + " dependents)");
  Print("  ... rendered as text:", uses_text);

  Checkpoint checkpoint =
      Must(reg.VerifyCheckpoint(Must(reg.LatestCheckpoint(), "checkpoint")), "verify checkpoint");
  size_t proof_hashes = 0;
  double prove_ms =
      Median(101, [&](int i) {
        proof_hashes = Must(reg.ProveInclusion((uint64_t(i) * 7919) % size), "prove").path.size();
      }).wall_ms;
  InclusionProof proof = Must(reg.ProveInclusion(size / 3), "prove");
  auto verify_start = Clock::now();
  int verify_runs = 10000;
  bool all_ok = true;
  for (int i = 0; i < verify_runs; ++i) {
    all_ok &=
        VerifyInclusion(proof.leaf_hash, proof.index, proof.size, proof.path, checkpoint.root);
  }
  double verify_us = Ms(verify_start) * 1000.0 / verify_runs;

  std::printf(
      "inclusion proof:            %zu hashes (%zu bytes), generated in %.3f ms, "
      "verified in %.1f us%s\n",
      proof_hashes, proof_hashes * 32, prove_ms, verify_us, all_ok ? "" : " (FAILED)");
  if (argc > 4 && std::string(argv[4]) == "--no-audit") return all_ok ? 0 : 1;
  auto start = Clock::now();
  std::clock_t cpu_start = std::clock();
  AuditReport report = Must(Auditor(reg).Run(), "audit");
  std::printf("audit verify:               %.1f s wall, %.1f s cpu (%s)\n", Ms(start) / 1000,
              static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC,
              report.ok() ? "passed" : "FAILED");
  for (const auto& line : report.checked) std::printf("  checked: %s\n", line.c_str());
  for (const auto& line : report.problems) std::printf("  problem: %s\n", line.c_str());
  return report.ok() && all_ok ? 0 : 1;
}
