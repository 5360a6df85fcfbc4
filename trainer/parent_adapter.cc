#include "trainer/parent_adapter.h"

#include "core/dsse.h"
#include "core/file_util.h"
#include "core/intoto.h"
#include "core/manifest.h"
#include "models/peft_io.h"
#include "trainer/provenance.h"

namespace graft::trainer {
namespace fs = std::filesystem;

Result<ParentAdapter> ParentAdapter::Read(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / kAdapterConfigFile, ec)) {
    return InvalidInput("--parent " + dir.string() + ": not a PEFT adapter directory (no " +
                        kAdapterConfigFile + ")");
  }
  ParentAdapter parent;
  parent.dir = dir;
  GRAFT_ASSIGN_OR_RETURN(Manifest manifest,
                         BuildManifest(dir, {.ignore_paths = {kSignatureFile, kProvenanceFile}}));
  parent.root_digest = manifest.RootDigestHex();
  const fs::path provenance = dir / kProvenanceFile;
  if (!fs::exists(provenance, ec)) return parent;
  const std::string source = provenance.string();
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(provenance, 64 << 20));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope, DsseEnvelope::Parse(text, source));
  GRAFT_ASSIGN_OR_RETURN(InTotoStatement statement,
                         InTotoStatement::Parse(envelope.payload, source + " payload"));
  try {
    const Json build = statement.predicate.value("buildDefinition", Json::object());
    for (const Json& dependency : build.value("resolvedDependencies", Json::array())) {
      if (dependency.value("name", "") != "base") continue;
      const Json sha256 = dependency.value("digest", Json::object()).value("sha256", Json());
      if (!sha256.is_string()) break;
      parent.base_digest = sha256.get<std::string>();
    }
  } catch (const Json::exception& e) {
    return InvalidInput(source + ": malformed buildDefinition: " + e.what());
  }
  if (!parent.base_digest) return InvalidInput(source + ": names no base digest");
  return parent;
}

Status ParentAdapter::CheckBase(const std::string& base_root_digest) const {
  if (!base_digest || *base_digest == base_root_digest) return Status::Ok();
  return InvalidInput("--parent " + dir.string() + " was trained on base sha256:" + *base_digest +
                      ", not on this base (sha256:" + base_root_digest + ")");
}

}  // namespace graft::trainer
