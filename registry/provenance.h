// Provenance: the SLSA v1 training provenance (DSSE + in-toto) an adapter directory carries.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dsse.h"
#include "core/json.h"
#include "core/status.h"

namespace graft::registry {

inline constexpr std::string_view kSlsaProvenanceType = "https://slsa.dev/provenance/v1";

// The exact shape is documented in docs/formats.md ("Training provenance").
struct Provenance {
  struct Dependency {
    std::string role;  // "base", "dataset", "parent_adapter", "config", "policy"
    std::string name;
    std::string digest;  // lowercase hex SHA-256
  };

  DsseEnvelope envelope;
  std::string subject_digest;  // the adapter root digest
  std::vector<Dependency> dependencies;
  std::string run_id;      // runDetails.metadata.invocationId
  std::string started_on;  // runDetails.metadata.startedOn (RFC 3339)
  Json internal_parameters = Json::object();
  Json external_parameters = Json::object();  // e.g. "announcement" (docs/formats.md)

  // Parses provenance.intoto.jsonl: one DSSE envelope (JSON, one line) over an in-toto
  // Statement v1 with predicateType https://slsa.dev/provenance/v1. Errors name the file.
  static Result<Provenance> Parse(std::string_view text, std::string_view source);

  std::optional<std::string> Find(std::string_view role) const;
  // What the registry stores about the run.
  Json Summary() const;
};

}  // namespace graft::registry
