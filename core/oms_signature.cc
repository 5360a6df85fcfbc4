#include "core/oms_signature.h"

#include <algorithm>
#include <set>

#include "core/encoding.h"
#include "core/file_util.h"
#include "core/intoto.h"

namespace graft {
namespace fs = std::filesystem;

namespace {

// Newer Sigstore clients spell the v0.3 media type this way; both mean the same bundle.
constexpr std::string_view kSigstoreBundleMediaTypeAlt =
    "application/vnd.dev.sigstore.bundle+json;version=0.3";
// A model.sig listing a few million files is still far below this.
constexpr uint64_t kMaxSignatureBytes = uint64_t{1} << 30;

// `file` relative to `dir` as a POSIX path when it lies inside `dir`, else empty.
std::string RelativeInside(const fs::path& dir, const fs::path& file) {
  std::error_code ec;
  fs::path base = fs::weakly_canonical(dir, ec);
  if (ec) return "";
  fs::path target = fs::weakly_canonical(file, ec);
  if (ec) return "";
  fs::path relative = target.lexically_relative(base);
  if (relative.empty() || *relative.begin() == ".." || relative == ".") return "";
  return relative.generic_string();
}

// Ignore paths with the signature file added when it lies inside the directory.
std::vector<std::string> WithSignatureIgnored(std::vector<std::string> ignore_paths,
                                              const fs::path& dir, const fs::path& signature_path) {
  std::string relative = RelativeInside(dir, signature_path);
  if (!relative.empty() &&
      std::find(ignore_paths.begin(), ignore_paths.end(), relative) == ignore_paths.end()) {
    ignore_paths.push_back(relative);
  }
  return ignore_paths;
}

Json ResourcesJson(const Manifest& manifest) {
  Json resources = Json::array();
  for (const ManifestEntry& e : manifest.entries) {
    resources.push_back(
        {{"algorithm", "sha256"}, {"digest", DigestHex(e.digest)}, {"name", e.path}});
  }
  return resources;
}

// The statement's predicate, type-checked (everything but the subject).
Result<OmsSignedContent> ParsePredicate(const Json& predicate, const std::string& where) {
  OmsSignedContent out;
  GRAFT_ASSIGN_OR_RETURN(const Json* serialization, JsonField(predicate, "serialization", where));
  const std::string at = where + ": serialization";
  if (!serialization->is_object()) return InvalidInput(at + ": expected a JSON object");
  GRAFT_ASSIGN_OR_RETURN(std::string method, JsonString(*serialization, "method", at));
  if (method != "files") {
    return InvalidInput(at + ": method \"" + method + "\" is not supported (only \"files\")");
  }
  GRAFT_ASSIGN_OR_RETURN(std::string hash_type, JsonString(*serialization, "hash_type", at));
  if (hash_type != "sha256") {
    return InvalidInput(at + ": hash_type \"" + hash_type + "\" is not supported (only sha256)");
  }
  GRAFT_ASSIGN_OR_RETURN(const Json* symlinks, JsonField(*serialization, "allow_symlinks", at));
  if (!symlinks->is_boolean()) return InvalidInput(at + ": \"allow_symlinks\" must be a boolean");
  out.allow_symlinks = symlinks->get<bool>();
  auto ignore = serialization->find("ignore_paths");
  if (ignore != serialization->end()) {
    if (!ignore->is_array()) return InvalidInput(at + ": \"ignore_paths\" must be an array");
    for (const Json& path : *ignore) {
      if (!path.is_string()) return InvalidInput(at + ": \"ignore_paths\" must hold strings");
      out.ignore_paths.push_back(path.get<std::string>());
    }
    auto normalised = NormaliseIgnorePaths(out.ignore_paths);
    if (!normalised.ok()) return normalised.status().WithContext(at);
  }

  GRAFT_ASSIGN_OR_RETURN(const Json* resources, JsonField(predicate, "resources", where));
  if (!resources->is_array()) return InvalidInput(where + ": \"resources\" must be an array");
  std::set<std::string> seen;
  for (size_t i = 0; i < resources->size(); ++i) {
    const Json& r = (*resources)[i];
    const std::string ra = where + ": resources[" + std::to_string(i) + "]";
    if (!r.is_object()) return InvalidInput(ra + ": expected a JSON object");
    GRAFT_ASSIGN_OR_RETURN(std::string algorithm, JsonString(r, "algorithm", ra));
    if (algorithm != "sha256") {
      return InvalidInput(ra + ": algorithm \"" + algorithm + "\" is not supported");
    }
    ManifestEntry entry;
    GRAFT_ASSIGN_OR_RETURN(entry.path, JsonString(r, "name", ra));
    // "." names the signed file itself: a single-file signature has that one resource only.
    if (entry.path == kOmsSingleFileResource) {
      if (resources->size() != 1) {
        return InvalidInput(ra + ": resource \".\" (a single file) must be the only resource");
      }
    } else {
      GRAFT_RETURN_IF_ERROR(CheckSafeRelativePath(entry.path).WithContext(ra));
    }
    GRAFT_ASSIGN_OR_RETURN(std::string digest, JsonString(r, "digest", ra));
    auto parsed = ParseDigestHex(digest);
    if (!parsed.ok() || digest.starts_with("sha256:")) {
      return InvalidInput(ra + ": \"digest\" must be 64 hex digits");
    }
    entry.digest = *parsed;
    if (!seen.insert(entry.path).second) {
      return InvalidInput(ra + ": duplicate resource \"" + entry.path + "\"");
    }
    out.manifest.entries.push_back(std::move(entry));
  }
  return out;
}

// The subject's sha256 digest: OMS statements have exactly one subject.
Result<Digest> SubjectDigest(const InTotoStatement& statement, const std::string& where) {
  if (statement.subjects.size() != 1) {
    return InvalidInput(where + ": expected exactly one subject, got " +
                        std::to_string(statement.subjects.size()));
  }
  auto it = statement.subjects[0].digest.find("sha256");
  if (it == statement.subjects[0].digest.end()) {
    return InvalidInput(where + ": the subject has no sha256 digest");
  }
  return ParseDigestHex(it->second);
}

// The trusted keys that match what the bundle says signed it.
std::vector<PublicKey> CandidateKeys(const OmsBundle& bundle,
                                     const std::vector<PublicKey>& trusted) {
  std::vector<PublicKey> out;
  for (const PublicKey& key : trusted) {
    if (bundle.embedded_key && bundle.embedded_key->key_id() != key.key_id()) continue;
    if (!bundle.key_hint.empty() && bundle.key_hint != OmsKeyHint(key)) continue;
    out.push_back(key);
  }
  return out;
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace

std::string OmsKeyHint(const PublicKey& key) { return Sha256Hex(key.ToPem()); }

Json OmsBundle::ToJson() const {
  Json public_key = Json::object();
  if (embedded_key) {
    public_key["rawBytes"] = Base64Encode(embedded_key->ToPem());
    public_key["keyDetails"] = SigstoreKeyDetails(embedded_key->algorithm());
  } else {
    public_key["hint"] = key_hint;
  }
  return {{"mediaType", kSigstoreBundleMediaType},
          {"verificationMaterial", {{"publicKey", public_key}, {"tlogEntries", Json::array()}}},
          {"dsseEnvelope", envelope.ToJson()}};
}

Result<OmsBundle> OmsBundle::Parse(std::string_view text, std::string_view source) {
  GRAFT_ASSIGN_OR_RETURN(Json json, ParseJson(text, source));
  const std::string where = std::string(source) + ": Sigstore bundle";
  if (!json.is_object()) return InvalidInput(where + ": expected a JSON object");
  GRAFT_ASSIGN_OR_RETURN(std::string media_type, JsonString(json, "mediaType", where));
  if (media_type != kSigstoreBundleMediaType && media_type != kSigstoreBundleMediaTypeAlt) {
    return InvalidInput(where + ": mediaType \"" + media_type + "\" is not \"" +
                        std::string(kSigstoreBundleMediaType) + "\"");
  }
  GRAFT_ASSIGN_OR_RETURN(const Json* material, JsonField(json, "verificationMaterial", where));
  const std::string vm = where + ": verificationMaterial";
  if (!material->is_object()) return InvalidInput(vm + ": expected a JSON object");
  if (!material->contains("publicKey")) {
    return InvalidInput(vm + ": no publicKey (certificate-based bundles are not supported)");
  }
  const Json& public_key = (*material)["publicKey"];
  const std::string pk = vm + ": publicKey";
  if (!public_key.is_object()) return InvalidInput(pk + ": expected a JSON object");

  OmsBundle bundle;
  auto hint = public_key.find("hint");
  if (hint != public_key.end() && !hint->is_null()) {
    if (!hint->is_string()) return InvalidInput(pk + ": \"hint\" must be a string");
    bundle.key_hint = hint->get<std::string>();
  }
  if (public_key.contains("rawBytes")) {
    GRAFT_ASSIGN_OR_RETURN(std::string encoded, JsonString(public_key, "rawBytes", pk));
    auto raw = Base64Decode(encoded);
    if (!raw.ok()) return InvalidInput(pk + ": \"rawBytes\" is not base64");
    // OMS v1.0 stores the PEM text here; the Sigstore specification stores DER.
    auto key = raw->starts_with("-----BEGIN") ? PublicKey::FromPem(*raw, pk + ".rawBytes")
                                              : PublicKey::FromDer(*raw, pk + ".rawBytes");
    if (!key.ok()) return key.status();
    if (public_key.contains("keyDetails")) {
      GRAFT_ASSIGN_OR_RETURN(std::string details, JsonString(public_key, "keyDetails", pk));
      if (details != SigstoreKeyDetails(key->algorithm())) {
        return InvalidInput(pk + ": keyDetails \"" + details + "\" does not match the " +
                            std::string(KeyAlgorithmName(key->algorithm())) + " key");
      }
    }
    bundle.embedded_key = std::move(key).value();
  }
  GRAFT_ASSIGN_OR_RETURN(const Json* envelope, JsonField(json, "dsseEnvelope", where));
  GRAFT_ASSIGN_OR_RETURN(bundle.envelope, DsseEnvelope::FromJson(*envelope, source));
  return bundle;
}

Result<Manifest> OmsSign(const fs::path& dir, const fs::path& signature_path, const PrivateKey& key,
                         const OmsSignOptions& options) {
  ManifestOptions manifest_options;
  manifest_options.allow_symlinks = options.allow_symlinks;
  GRAFT_ASSIGN_OR_RETURN(
      manifest_options.ignore_paths,
      NormaliseIgnorePaths(WithSignatureIgnored(options.ignore_paths, dir, signature_path)));
  GRAFT_ASSIGN_OR_RETURN(Manifest manifest, BuildManifest(dir, manifest_options));
  if (manifest.entries.empty()) {
    return InvalidInput(dir.string() + ": no files to sign after applying the ignore paths");
  }

  std::string name = options.subject_name;
  if (name.empty()) {
    std::error_code ec;
    name = fs::weakly_canonical(dir, ec).filename().string();
    if (ec || name.empty()) name = dir.filename().string();
  }
  InTotoStatement statement;
  statement.subjects.push_back({name, {{"sha256", manifest.RootDigestHex()}}});
  statement.predicate_type = std::string(kOmsPredicateType);
  statement.predicate = {{"serialization",
                          {{"method", "files"},
                           {"hash_type", "sha256"},
                           {"allow_symlinks", options.allow_symlinks},
                           {"ignore_paths", manifest_options.ignore_paths}}},
                         {"resources", ResourcesJson(manifest)}};
  GRAFT_ASSIGN_OR_RETURN(std::string payload, statement.ToPayload());
  GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope,
                         DsseSign(kInTotoPayloadType, std::move(payload), {&key}));

  OmsBundle bundle;
  bundle.envelope = std::move(envelope);
  if (options.embed_public_key) {
    bundle.embedded_key = key.public_key();
  } else {
    bundle.key_hint = OmsKeyHint(key.public_key());
  }
  GRAFT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(bundle.ToJson()));
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(signature_path, text));
  return manifest;
}

Result<OmsSignedContent> ParseOmsEnvelope(const DsseEnvelope& envelope, std::string_view source) {
  if (envelope.payload_type != kInTotoPayloadType) {
    return InvalidInput(std::string(source) + ": payloadType \"" + envelope.payload_type +
                        "\" is not \"" + std::string(kInTotoPayloadType) + "\"");
  }
  const std::string where = std::string(source) + ": payload";
  GRAFT_ASSIGN_OR_RETURN(InTotoStatement statement,
                         InTotoStatement::Parse(envelope.payload, where));
  if (statement.predicate_type != kOmsPredicateType) {
    return InvalidInput(where + ": predicateType \"" + statement.predicate_type + "\" is not \"" +
                        std::string(kOmsPredicateType) + "\"");
  }
  GRAFT_ASSIGN_OR_RETURN(Digest subject_digest, SubjectDigest(statement, where));
  GRAFT_ASSIGN_OR_RETURN(OmsSignedContent content, ParsePredicate(statement.predicate, where));
  if (content.manifest.RootDigest() != subject_digest) {
    return VerificationFailed(where + ": the subject digest " + DigestHex(subject_digest) +
                              " does not match the signed resources (" +
                              content.manifest.RootDigestHex() + ")");
  }
  content.subject = subject_digest;
  return content;
}

Result<OmsVerification> OmsVerify(const fs::path& dir, const fs::path& signature_path,
                                  const std::vector<PublicKey>& trusted_keys,
                                  const std::vector<std::string>& extra_ignore_paths) {
  const std::string source = signature_path.string();
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(signature_path, kMaxSignatureBytes));
  GRAFT_ASSIGN_OR_RETURN(OmsBundle bundle, OmsBundle::Parse(text, source));

  std::vector<PublicKey> candidates = CandidateKeys(bundle, trusted_keys);
  if (candidates.empty()) {
    std::string named = bundle.embedded_key ? "embedded key " + bundle.embedded_key->key_id()
                                            : "key hint " + bundle.key_hint;
    return VerificationFailed(source + ": the signature names a key that is not trusted (" + named +
                              ")");
  }
  auto verified = DsseVerify(bundle.envelope, candidates, 1);
  if (!verified.ok()) return verified.status().WithContext(source);

  GRAFT_ASSIGN_OR_RETURN(OmsSignedContent signed_state, ParseOmsEnvelope(bundle.envelope, source));
  const Digest& subject_digest = signed_state.subject;

  const bool single_file = signed_state.manifest.entries.size() == 1 &&
                           signed_state.manifest.entries[0].path == kOmsSingleFileResource;
  std::error_code ec;
  const bool is_file = fs::is_regular_file(dir, ec);
  if (single_file != is_file) {
    return VerificationFailed(
        source + (single_file ? ": signs a single file (resource \".\"), but " + dir.string() +
                                    " is not a regular file"
                              : ": signs a directory, but " + dir.string() + " is a file"));
  }
  Manifest actual;
  if (single_file) {
    if (fs::is_symlink(fs::symlink_status(dir, ec)) && !signed_state.allow_symlinks) {
      return InvalidInput(dir.string() +
                          " is a symbolic link and the signature does not allow "
                          "symlinks");
    }
    GRAFT_ASSIGN_OR_RETURN(Digest digest, Sha256File(dir));
    actual.entries.push_back({std::string(kOmsSingleFileResource), digest, fs::file_size(dir, ec)});
  } else {
    std::vector<std::string> ignore = signed_state.ignore_paths;
    ignore.insert(ignore.end(), extra_ignore_paths.begin(), extra_ignore_paths.end());
    ManifestOptions options;
    options.allow_symlinks = signed_state.allow_symlinks;
    options.ignore_paths = WithSignatureIgnored(std::move(ignore), dir, signature_path);
    GRAFT_ASSIGN_OR_RETURN(actual, BuildManifest(dir, options));
  }

  std::vector<std::string> problems = DiffManifests(signed_state.manifest, actual);
  if (!problems.empty()) {
    return VerificationFailed(dir.string() +
                              " does not match its signature: " + Join(problems, ", "));
  }
  if (actual.RootDigest() != subject_digest) {
    return VerificationFailed(dir.string() + ": root digest " + actual.RootDigestHex() +
                              " differs from the signed " + DigestHex(subject_digest) +
                              " (the signer listed the files in another order)");
  }
  OmsVerification result;
  result.manifest = std::move(actual);
  result.key_id = verified->front();
  result.ignore_paths = std::move(signed_state.ignore_paths);
  return result;
}

}  // namespace graft
