// The SLSA Provenance v1 of a training run, signed as a DSSE envelope beside the adapter.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/file_names.h"
#include "core/json.h"
#include "core/keys.h"
#include "core/status.h"

namespace graft::trainer {

inline constexpr char kSlsaProvenanceType[] = "https://slsa.dev/provenance/v1";
inline constexpr char kTrainBuildType[] = "https://graft.dev/train/v1";

// An SLSA ResourceDescriptor of an input: "base", "dataset:train", "dataset:valid", "parent",
// "policy".
struct ResolvedDependency {
  std::string name;
  std::string uri;     // optional (datasets: the file name)
  std::string sha256;  // lowercase hex
};

// An outcome of the run (scalars "train_loss", "valid_loss", "valid_bits_per_byte", "steps",
// "tokens", "wall_seconds"; the "loss_curve" array; data-parallel, the "ranks" array of each
// rank's host and checked input digests), written as {name, annotations: {value}}.
struct Byproduct {
  std::string name;
  Json value;
};

struct TrainingProvenance {
  Json config = Json::object();       // the effective training config (TrainConfig::ToJson)
  std::string config_sha256;          // of the config file's bytes
  std::optional<std::string> policy;  // digest given with --policy
  // What the run's announcement in a registry log was (buildDefinition.externalParameters
  // .announcement: event, run id, signed checkpoint, inclusion proof); null when not announced.
  Json announcement;
  bool full = false;
  uint64_t seed = 0;
  int64_t threads = 0;
  int world_size = 1;  // data-parallel ranks (recorded when more than one)
  std::string graft_version;
  std::string libtorch_version;
  std::string blas;
  std::vector<ResolvedDependency> dependencies;
  std::string invocation_id;
  std::string started_on;   // RFC 3339 UTC
  std::string finished_on;  // RFC 3339 UTC
  std::vector<Byproduct> byproducts;

  // SLSA's buildDefinition: buildType, externalParameters, internalParameters and
  // resolvedDependencies (what identifies the run's inputs).
  Json BuildDefinition() const;
  // The in-toto Statement v1 with predicateType https://slsa.dev/provenance/v1 about the adapter
  // `subject_name` whose root digest is `subject_sha256` (docs/formats.md, "Training provenance").
  Json Statement(const std::string& subject_name, const std::string& subject_sha256) const;

  // Signs `dir` (the finished adapter or model directory): writes DIR/model.sig (OMS, ignoring
  // the provenance file) and DIR/provenance.intoto.jsonl (a DSSE envelope over Statement(), one
  // line), both with `key`. `subject_name` is the name the directory will have. Returns the
  // directory's root digest (hex).
  Result<std::string> SignDirectory(const std::filesystem::path& dir,
                                    const std::string& subject_name, const PrivateKey& key) const;

  // A random run id (UUID v4 text) and the current time in RFC 3339 UTC ("2026-11-28T13:05:09Z").
  static std::string NewInvocationId();
  static std::string Now();
};

}  // namespace graft::trainer
