// `graft init`: creates a registry directory with its database, blob store and signing key; and
// `graft registry gc`: finds (and with --apply deletes) what interrupted commands left behind.
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <set>

#include "cli/common.h"
#include "core/file_util.h"
#include "core/keys.h"
#include "registry/intake.h"
#include "registry/registry_key.h"
#include "registry/transaction.h"

namespace graft::cli {
namespace {
namespace fs = std::filesystem;

Result<int> RunInit(const po::variables_map& vm) {
  fs::path dir = vm.count("dir") ? fs::path(vm["dir"].as<std::string>()) : RegistryDir(vm);
  registry::InitOptions options;
  if (vm.count("registry-key")) {
    options.registry_key = vm["registry-key"].as<std::string>();
  } else if (const char* env = std::getenv(registry::kRegistryKeyEnv);
             env != nullptr && *env != '\0') {
    options.registry_key = env;
  }
  // The first admin key: a public key given, or a new one written (0600) where asked.
  std::optional<PrivateKey> generated;
  if (vm.count("admin-key") && vm.count("new-admin-key")) {
    return InvalidInput("pass --admin-key or --new-admin-key, not both");
  }
  if (vm.count("admin-key")) {
    GRAFT_ASSIGN_OR_RETURN(options.admin_key,
                           PublicKey::LoadPem(vm["admin-key"].as<std::string>()));
  } else if (vm.count("new-admin-key")) {
    const fs::path out = vm["new-admin-key"].as<std::string>();
    std::error_code error;
    if (fs::exists(out, error)) {
      return InvalidInput(out.string() + " exists; refusing to overwrite a key");
    }
    GRAFT_ASSIGN_OR_RETURN(generated, PrivateKey::Generate(KeyAlgorithm::kEd25519));
    options.admin_key = generated->public_key();
  }
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, registry::Registry::Init(dir, options));
  if (generated) {
    const fs::path out = vm["new-admin-key"].as<std::string>();
    Status saved = generated->Save(out);
    if (saved.ok()) saved = WriteFileAtomic(out.string() + ".pub", generated->public_key().ToPem());
    if (!saved.ok()) {
      std::error_code error;
      fs::remove_all(dir, error);  // an admin key nobody holds locks the registry
      return saved.WithContext("writing the new admin key (the registry was removed)");
    }
  }
  fs::path key_file = options.registry_key;
  if (key_file.empty()) {
    GRAFT_ASSIGN_OR_RETURN(key_file, registry::DefaultRegistryKeyPath(reg.registry_key().key_id()));
  }
  const std::optional<PublicKey>& admin = options.admin_key;
  std::string grants;  // a PostgreSQL registry's roles, for its administrator
  GRAFT_ASSIGN_OR_RETURN(grants, reg.RoleGrants());
  if (WantsJson(vm)) {
    Json out = {{"registry", reg.dir().string()},
                {"origin", reg.origin()},
                {"registry_key_id", reg.registry_key().key_id()},
                {"registry_key_file", key_file.string()},
                {"admin_key_id", admin ? Json(admin->key_id()) : Json()}};
    if (!grants.empty()) out["grants"] = grants;
    PrintJson(out);
  } else {
    std::cout << "initialised graft registry " << reg.dir().string() << "\n"
              << "  log origin:   " << reg.origin() << "\n"
              << "  registry key: " << reg.registry_key().key_id() << " (" << key_file.string()
              << ", mode 0600, outside the registry)\n";
    if (admin) {
      std::cout << "  admin key:    " << admin->key_id()
                << (generated ? " (new: " + vm["new-admin-key"].as<std::string>() + ", mode 0600)"
                              : "")
                << "\n  every change must now be signed by a key whose role allows it "
                   "(--key, $GRAFT_KEY)\n";
    } else {
      std::cout << "  no admin key: changes are not signed, and the audit cannot tell who made "
                   "them (--admin-key PUB or --new-admin-key FILE)\n";
    }
    if (!grants.empty()) {
      std::cout << "  roles: graft applied no grants; the database owner runs these once, then "
                   "gives each login one of the roles (docs/registry.md, \"PostgreSQL\"):\n"
                << grants;
    }
  }
  return kExitOk;
}

CommandRegistrar kInit({
    .group = "init",
    .verb = "",
    .summary = "Create a registry (database, blob store, Ed25519 registry key outside it)",
    .usage = "[DIR] [--registry-key FILE] [--admin-key PUB | --new-admin-key FILE]",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("dir", po::value<std::string>(),
                                "registry directory (default: --registry, $GRAFT_REGISTRY, "
                                "./.graft)")(
              "registry-key", po::value<std::string>(),
              "the registry key's private key file: used if it exists, else generated there "
              "(default: $GRAFT_REGISTRY_KEY, else "
              "~/.config/graft/registry-keys/<key id>.pem)");
          options.add_options()("admin-key", po::value<std::string>(),
                                "public key (PEM) trusted as the first admin: every change is "
                                "then signed by a key whose role allows it")(
              "new-admin-key", po::value<std::string>(),
              "generate the first admin key: private key to FILE (0600), public to FILE.pub");
          positional.add("dir", 1);
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunInit,
});

// --- gc --------------------------------------------------------------------------------------

struct Leftover {
  fs::path path;
  std::string why;
  uint64_t bytes = 0;
};

uint64_t SizeOf(const fs::path& path) {
  std::error_code error;
  if (!fs::is_directory(path, error)) return fs::file_size(path, error);
  uint64_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(path, error)) {
    if (entry.is_regular_file(error)) total += entry.file_size(error);
  }
  return total;
}

// A staging directory tmp/intake-<pid>-XXXXXX whose process has ended.
bool IntakeOfEndedProcess(const std::string& name) {
  const std::string prefix(registry::kIntakePrefix);
  if (!name.starts_with(prefix)) return false;
  size_t dash = name.find('-', prefix.size());
  if (dash == std::string::npos) return false;
  char* end = nullptr;
  long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
  if (end != name.c_str() + dash || pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// What interrupted commands leave: staging directories of ended processes, temporary blob files
// (.<digest>.tmpXXXXXX) and blobs no row names. Called under the write lock, so no change is in
// progress that could still commit one of them.
Result<std::vector<Leftover>> FindLeftovers(registry::Registry& reg) {
  std::vector<Leftover> out;
  std::error_code error;
  fs::path staging = reg.dir() / registry::kStagingDir;
  if (fs::is_directory(staging, error)) {
    for (const auto& entry : fs::directory_iterator(staging, error)) {
      std::string name = entry.path().filename().string();
      if (IntakeOfEndedProcess(name)) {
        out.push_back(
            {entry.path(), "staging directory of an ended registration", SizeOf(entry.path())});
      }
    }
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> recorded, reg.RecordedBlobs());
  const std::set<std::string> known(recorded.begin(), recorded.end());
  // A store without files (PostgreSQL: blobs are rows, written in their change's transaction)
  // leaves nothing behind to collect.
  fs::path blobs = reg.blob_dir() / "sha256";
  if (!reg.blob_dir().empty() && fs::is_directory(blobs, error)) {
    for (const auto& prefix : fs::directory_iterator(blobs, error)) {
      if (!prefix.is_directory(error)) continue;
      for (const auto& file : fs::directory_iterator(prefix.path(), error)) {
        std::string name = file.path().filename().string();
        if (name.starts_with(".") && name.find(".tmp") != std::string::npos) {
          out.push_back(
              {file.path(), "temporary blob file of an interrupted write", SizeOf(file.path())});
        } else if (!known.contains(prefix.path().filename().string() + name)) {
          out.push_back({file.path(), "blob no registry row names (its change did not commit)",
                         SizeOf(file.path())});
        }
      }
    }
  }
  return out;
}

Result<int> RunGc(const po::variables_map& vm) {
  const bool apply = vm.count("apply") > 0;
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg,
                         apply ? OpenRegistry(vm) : OpenRegistrySnapshot(vm));
  std::optional<registry::Transaction> lock;
  if (apply) {
    GRAFT_ASSIGN_OR_RETURN(registry::Transaction begun, reg.LockForWriting());
    lock.emplace(std::move(begun));
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<Leftover> leftovers, FindLeftovers(reg));
  uint64_t bytes = 0;
  Json listed = Json::array();
  for (const Leftover& leftover : leftovers) {
    bytes += leftover.bytes;
    if (apply) {
      std::error_code error;
      fs::remove_all(leftover.path, error);
      if (error) {
        return IoError("cannot delete " + leftover.path.string() + ": " + error.message());
      }
    }
    listed.push_back(
        {{"path", leftover.path.string()}, {"why", leftover.why}, {"bytes", leftover.bytes}});
    if (!WantsJson(vm)) {
      std::cout << (apply ? "deleted " : "would delete ") << Printable(leftover.path.string())
                << "  (" << leftover.why << ", " << leftover.bytes << " bytes)\n";
    }
  }
  if (WantsJson(vm)) {
    PrintJson({{"applied", apply}, {"leftovers", listed}, {"bytes", bytes}});
  } else {
    std::cout << leftovers.size() << " leftover(s), " << bytes << " bytes"
              << (apply               ? " deleted\n"
                  : leftovers.empty() ? "\n"
                                      : "; run with --apply to delete them\n");
  }
  return kExitOk;
}

GroupRegistrar kRegistryGroup("registry", "Maintenance of the registry directory");

CommandRegistrar kGc({
    .group = "registry",
    .verb = "gc",
    .summary = "List (or with --apply delete) what interrupted commands left in the registry",
    .usage = "[--apply]",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("apply", "delete them (default: only list them)");
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunGc,
});

}  // namespace
}  // namespace graft::cli
