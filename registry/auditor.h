// Auditor: `graft audit verify` — recomputes blobs, tree, checkpoints, signatures and tables from
// the log.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "registry/registry.h"

namespace graft::registry {

struct AuditReport {
  std::vector<std::string> checked;   // what was verified, one line each
  std::vector<std::string> problems;  // every discrepancy found
  std::vector<std::string> notes;     // benign findings (e.g. orphan blobs left by a crash)
  // State that needs action but is not a discrepancy (the registry is intact): a channel serving
  // an adapter that is revoked, depends on something revoked, or was retired. Not a failure.
  std::vector<std::string> findings;

  bool ok() const { return problems.empty(); }
  Json ToJson() const;
};

// A checkpoint the user kept, and where it came from (named in the report).
struct KeptCheckpoint {
  std::string source;
  std::string note;
};

class Auditor {
 public:
  explicit Auditor(Registry& registry) : registry_(registry) {}

  // Never stops at the first problem: every check runs and every discrepancy is reported. An
  // error Status means the audit itself could not run (e.g. the database is unreadable). Every
  // check reads one snapshot of the database (the registry's own when it was opened as one, else
  // a read transaction held for the whole audit), so concurrent writers never look like tampering.
  Result<AuditReport> Run(const std::vector<KeptCheckpoint>& kept = {});

 private:
  Status CheckSchema(AuditReport& report);
  Status CheckIntegrity(AuditReport& report);
  Status CheckEvents(AuditReport& report);
  Status CheckStoredTree(AuditReport& report);
  Status CheckCheckpoints(const std::vector<KeptCheckpoint>& kept, AuditReport& report);
  Status CheckTables(AuditReport& report);
  Status CheckBlobs(AuditReport& report);
  Status CheckDirectoryFiles(AuditReport& report);
  Status CheckAttestations(AuditReport& report);
  Status CheckChannels(AuditReport& report);
  // Replays keys and roles from event 0: every change signed by a key trusted, unrevoked and
  // with a role allowed for it at its position (registry/authorisation.h).
  void CheckSignedChanges(AuditReport& report);
  void CheckCheckpoint(const std::string& source, const std::string& note, AuditReport& report);

  Registry& registry_;
  std::vector<Event> events_;  // in row order
  InMemoryMerkleTree tree_;
};

}  // namespace graft::registry
