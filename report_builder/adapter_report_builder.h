// AdapterReportBuilder: `graft report ADAPTER` — everything the registry knows about one adapter,
// re-verified now, as the AdapterReportData the renderers take.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/intoto.h"
#include "core/status.h"
#include "registry/registry.h"
#include "report_builder/registry_names.h"
#include "report_builder/verified_log.h"
#include "reports/report_model.h"

namespace graft::report_builder {

class AdapterReportBuilder {
 public:
  // Reads only: the registry is not changed.
  explicit AdapterReportBuilder(registry::Registry& registry) : registry_(registry) {}
  // With a log already loaded and verified (VerifiedLog::Load on this registry, at its current
  // size), shared by reports built on other connections: graft serve loads it once per log size.
  AdapterReportBuilder(registry::Registry& registry, std::shared_ptr<const VerifiedLog> log)
      : registry_(registry), shared_log_(std::move(log)) {}

  // REF: name@N, name@channel, name (latest), a digest or a unique prefix. Identity, stage and
  // channels; a verification row for the adapter's and base's files (re-hashed from the blob
  // store), model.sig, the provenance, every evaluation, decision and approval attestation
  // (signatures re-verified against the registry's keys), datasets and policy (re-hashed), the
  // checkpoint and the inclusion proofs; lineage; training config and losses from the provenance;
  // evaluations, decisions and approvals in log order; and every log event that names the adapter
  // or one of its attestations, with its inclusion proof checked against the latest checkpoint.
  Result<reports::AdapterReportData> Build(const std::string& ref);

 private:
  // An attestation about the adapter, read from the blob store and re-verified now.
  struct Checked {
    registry::AttestationRecord record;
    std::optional<InTotoStatement> statement;  // absent when the envelope could not be read
    std::vector<std::string> key_ids;          // keys whose signatures verified
    std::string time;                          // of its log event
  };

  // Every attestation of `kind` about the adapter, each also added as a verification row.
  Result<std::vector<Checked>> CheckAttestations(std::string_view kind, std::string_view role,
                                                 reports::AdapterReportData& report);
  Status AddIdentity(reports::AdapterReportData& report);
  Status VerifyFiles(const registry::ObjectRecord& object, std::string_view what,
                     reports::AdapterReportData& report);
  Status VerifySignatureFiles(reports::AdapterReportData& report);
  Status VerifyBlob(const std::string& digest, const std::string& what,
                    reports::AdapterReportData& report);
  Status AddInputs(reports::AdapterReportData& report);
  void AddTraining(const Checked& provenance, reports::AdapterReportData& report);
  Status AddEvaluations(const std::vector<Checked>& evaluations,
                        reports::AdapterReportData& report);
  Status AddDecisions(const std::vector<Checked>& decisions, reports::AdapterReportData& report);
  void AddApprovals(const std::vector<Checked>& approvals, reports::AdapterReportData& report);
  Status AddLogEntries(const std::vector<std::string>& attestation_digests,
                       reports::AdapterReportData& report);
  // Every key the registry has trusted with `role`, revoked ones included (rows name them).
  Result<std::vector<PublicKey>> KeysWithRole(std::string_view role) const;
  std::string TimeOf(uint64_t seq) const;
  // Adds a node unless one with `id` is already there.
  void AddNode(reports::LineageGraph& graph, std::string id, reports::LineageNodeKind kind,
               std::string label, const std::string& digest);

  registry::Registry& registry_;
  std::shared_ptr<const VerifiedLog> shared_log_;  // given to the constructor, if any
  std::shared_ptr<const VerifiedLog> log_;
  registry::ObjectRecord adapter_;
  std::optional<RegistryNames> names_;
};

}  // namespace graft::report_builder
