// `graft sign DIR` and `graft verify DIR|FILE`: OpenSSF Model Signing (OMS v1.0) model.sig files
// (a FILE's single-file signature names its one resource ".").
#include <iostream>

#include "cli/command.h"
#include "core/file_names.h"
#include "core/json.h"
#include "core/keys.h"
#include "core/oms_signature.h"

namespace graft::cli {
namespace {

namespace fs = std::filesystem;

// Ignored by default when signing, as the OpenSSF model_signing tool does.
const std::vector<std::string> kGitPaths = {".git", ".gitattributes", ".github", ".gitignore"};

std::vector<std::string> Strings(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

fs::path SignaturePath(const po::variables_map& vm, const fs::path& dir) {
  return vm.count("signature") ? fs::path(vm["signature"].as<std::string>()) : dir / kSignatureFile;
}

Result<int> RunSign(const po::variables_map& vm) {
  fs::path dir = vm["dir"].as<std::string>();
  fs::path signature = SignaturePath(vm, dir);
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::LoadPem(vm["key"].as<std::string>()));
  OmsSignOptions options;
  options.ignore_paths = Strings(vm, "ignore-path");
  if (!vm.count("include-git-paths")) {
    options.ignore_paths.insert(options.ignore_paths.end(), kGitPaths.begin(), kGitPaths.end());
  }
  options.allow_symlinks = vm.count("allow-symlinks") > 0;
  options.embed_public_key = vm.count("embed-public-key") > 0;
  GRAFT_ASSIGN_OR_RETURN(Manifest manifest, OmsSign(dir, signature, key, options));
  if (vm.count("json")) {
    Json json = {{"signature", signature.string()},
                 {"root_digest", "sha256:" + manifest.RootDigestHex()},
                 {"files", manifest.entries.size()},
                 {"key_id", key.key_id()}};
    std::cout << json.dump(2) << "\n";
  } else {
    std::cout << "signed " << manifest.entries.size() << " file(s) in " << dir.string()
              << "\nroot digest sha256:" << manifest.RootDigestHex() << "\nkey id " << key.key_id()
              << "\nwrote " << signature.string() << "\n";
  }
  return kExitOk;
}

Result<int> RunVerify(const po::variables_map& vm) {
  fs::path dir = vm["dir"].as<std::string>();
  std::error_code ec;
  if (fs::is_regular_file(dir, ec) && !vm.count("signature")) {
    return InvalidInput(dir.string() +
                        " is a file: name its single-file signature with --signature");
  }
  fs::path signature = SignaturePath(vm, dir);
  std::vector<PublicKey> trusted;
  for (const std::string& path : Strings(vm, "public-key")) {
    GRAFT_ASSIGN_OR_RETURN(PublicKey key, PublicKey::LoadPem(path));
    trusted.push_back(std::move(key));
  }
  Result<OmsVerification> verified = OmsVerify(dir, signature, trusted, Strings(vm, "ignore-path"));
  bool json = vm.count("json") > 0;
  if (!verified.ok()) {
    const Status& status = verified.status();
    if (!json || status.kind() != ErrorKind::kVerification) return status;
    std::cout << Json({{"verified", false}, {"error", status.message()}}).dump(2) << "\n";
    return kExitVerificationFailed;
  }
  if (json) {
    Json out = {{"verified", true},
                {"root_digest", "sha256:" + verified->manifest.RootDigestHex()},
                {"files", verified->manifest.entries.size()},
                {"key_id", verified->key_id},
                {"ignore_paths", verified->ignore_paths}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "verified " << verified->manifest.entries.size() << " file(s) in " << dir.string()
              << "\nroot digest sha256:" << verified->manifest.RootDigestHex() << "\nsigned by key "
              << verified->key_id << "\n";
  }
  return kExitOk;
}

CommandRegistrar kSign({
    .group = "sign",
    .verb = "",
    .summary = "Sign a model or adapter directory (writes an OMS v1.0 model.sig)",
    .usage = "DIR --key FILE",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("dir", po::value<std::string>()->required(), "directory to sign")(
              "key,k", po::value<std::string>()->required(), "private key file (PEM, mode 0600)")(
              "signature,s", po::value<std::string>(), "signature file (default: DIR/model.sig)")(
              "ignore-path,i", po::value<std::vector<std::string>>(),
              "path relative to DIR to leave out (a directory leaves out all below it); "
              "repeatable")("include-git-paths",
                            "sign .git, .gitattributes, .github and .gitignore too")(
              "allow-symlinks", "hash the targets of symlinks instead of refusing them")(
              "embed-public-key",
              "store the public key in the bundle (rawBytes) instead of its hash (hint)")(
              "json", "print JSON");
          positional.add("dir", 1);
        },
    .run = RunSign,
});

CommandRegistrar kVerify({
    .group = "verify",
    .verb = "",
    .summary = "Verify a directory or file against its OMS signature (exit 12 on a mismatch)",
    .usage = "DIR|FILE --public-key PUB",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("dir", po::value<std::string>()->required(),
                                "directory, or file of a single-file signature, to verify")(
              "signature,s", po::value<std::string>(),
              "signature file (default: DIR/model.sig; required for a FILE)")(
              "public-key,p", po::value<std::vector<std::string>>()->required(),
              "trusted public key (PEM); repeatable")(
              "ignore-path,i", po::value<std::vector<std::string>>(),
              "path relative to DIR to leave out besides those the signature lists; repeatable")(
              "json", "print JSON");
          positional.add("dir", 1);
        },
    .run = RunVerify,
});

}  // namespace
}  // namespace graft::cli
