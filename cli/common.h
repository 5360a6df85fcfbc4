// Helpers shared by commands: where the registry is, opening it, and JSON output.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "cli/command.h"
#include "core/json.h"
#include "core/status.h"
#include "registry/registry.h"

namespace graft::cli {

// Adds --registry DIR.
void AddRegistryOption(po::options_description& options);
// --registry, else $GRAFT_REGISTRY, else ./.graft.
std::filesystem::path RegistryDir(const po::variables_map& vm);
// Opens the registry RegistryDir() names (read-only when the process may not write it). The
// private keys --key (when the command has it) and $GRAFT_KEY become its actor keys: each change
// is signed by the one whose role allows it.
Result<registry::Registry> OpenRegistry(const po::variables_map& vm);
// Opens it read-only, in one consistent snapshot held until the Registry is destroyed: for
// commands that only read (audit, list, show, lineage, log, report).
Result<registry::Registry> OpenRegistrySnapshot(const po::variables_map& vm);
// `text` safe to print on a terminal: control characters escaped (registry::EscapeControl).
std::string Printable(std::string_view text);
// Adds --key FILE: the private key that signs the command's changes.
void AddSigningKeyOption(po::options_description& options, const std::string& roles);

// Adds --json.
void AddJsonOption(po::options_description& options);
bool WantsJson(const po::variables_map& vm);
// Pretty-printed JSON on stdout.
void PrintJson(const Json& json);

// "sha256:<first 12 hex>" for tables.
std::string ShortDigest(const std::string& hex);

}  // namespace graft::cli
