#include "trainer/provenance.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "core/dsse.h"
#include "core/encoding.h"
#include "core/file_util.h"
#include "core/intoto.h"
#include "core/oms_signature.h"

namespace graft::trainer {

Json TrainingProvenance::BuildDefinition() const {
  Json external = {{"config", config}, {"config_sha256", config_sha256}, {"full", full}};
  if (policy) external["policy"] = *policy;
  if (!announcement.is_null()) external["announcement"] = announcement;
  Json resolved = Json::array();
  for (const ResolvedDependency& d : dependencies) {
    Json entry = {{"name", d.name}, {"digest", {{"sha256", d.sha256}}}};
    if (!d.uri.empty()) entry["uri"] = d.uri;
    resolved.push_back(std::move(entry));
  }
  Json internal = {{"seed", seed},
                   {"threads", threads},
                   {"graft_version", graft_version},
                   {"libtorch_version", libtorch_version},
                   {"blas", blas}};
  if (world_size > 1) internal["world_size"] = world_size;
  return {{"buildType", kTrainBuildType},
          {"externalParameters", std::move(external)},
          {"internalParameters", std::move(internal)},
          {"resolvedDependencies", std::move(resolved)}};
}

Json TrainingProvenance::Statement(const std::string& subject_name,
                                   const std::string& subject_sha256) const {
  Json byproduct_list = Json::array();
  for (const Byproduct& b : byproducts) {
    byproduct_list.push_back({{"name", b.name}, {"annotations", {{"value", b.value}}}});
  }
  InTotoStatement statement;
  statement.subjects.push_back({subject_name, {{"sha256", subject_sha256}}});
  statement.predicate_type = kSlsaProvenanceType;
  statement.predicate = {
      {"buildDefinition", BuildDefinition()},
      {"runDetails",
       {{"builder", {{"id", "graft/" + graft_version}}},
        {"metadata",
         {{"invocationId", invocation_id}, {"startedOn", started_on}, {"finishedOn", finished_on}}},
        {"byproducts", std::move(byproduct_list)}}},
  };
  return statement.ToJson();
}

Result<std::string> TrainingProvenance::SignDirectory(const std::filesystem::path& dir,
                                                      const std::string& subject_name,
                                                      const PrivateKey& key) const {
  OmsSignOptions options;
  options.ignore_paths = {kProvenanceFile};
  options.subject_name = subject_name;
  GRAFT_ASSIGN_OR_RETURN(Manifest manifest, OmsSign(dir, dir / kSignatureFile, key, options));
  const std::string digest = manifest.RootDigestHex();
  GRAFT_ASSIGN_OR_RETURN(std::string payload, CanonicalJson(Statement(subject_name, digest)));
  GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope,
                         DsseSign(kInTotoPayloadType, std::move(payload), {&key}));
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(dir / kProvenanceFile, envelope.Serialize() + "\n"));
  return digest;
}

std::string TrainingProvenance::NewInvocationId() {
  std::random_device device;
  uint8_t bytes[16];
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(device());
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
  const std::string hex = HexEncode(std::span<const uint8_t>(bytes, 16));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string TrainingProvenance::Now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace graft::trainer
