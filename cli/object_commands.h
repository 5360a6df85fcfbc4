// Shared bodies of the `list`, `show` and `export` verbs of the object groups (base, dataset,
// adapter).
#pragma once

#include "cli/command.h"
#include "registry/registry.h"

namespace graft::cli {

// One line per object: digest, labels, stage and flags; or a JSON array with --json.
Result<int> RunListObjects(const po::variables_map& vm, const registry::ObjectFilter& filter);
// Resolves positional "ref" as `kind` and prints the object, its edges and attestations.
Result<int> RunShowObject(const po::variables_map& vm, const std::string& kind);
// Prints a registered (or re-labelled) object: its digest and labels, or JSON.
int PrintRegistered(const po::variables_map& vm, const registry::ObjectRecord& object);
// The `list` verb of an object group (`--name` filter, --registry, --json) and its `show` verb
// (positional REF), for groups whose objects need nothing more.
Command ListObjectsCommand(const std::string& group, const std::string& kind,
                           const std::string& summary);
Command ShowObjectCommand(const std::string& group, const std::string& kind,
                          const std::string& summary);
// The `export` verb of a directory-object group (adapter, base): positional REF, --out DIR,
// --registry, --json; writes the files re-verified (Registry::ExportFiles, streamed).
Command ExportObjectCommand(const std::string& group, const std::string& kind,
                            const std::string& summary);
// An adapter's tags as "key=value, key=value", safe to print.
std::string TagsText(const registry::Annotations& annotations);
// The "  tags:" and "  description:" lines of an adapter's text view (none when it has none).
void PrintAnnotations(const registry::Annotations& annotations);
// Defines a positional REF argument plus --registry and --json.
void DefineRefOptions(po::options_description& options,
                      po::positional_options_description& positional);

}  // namespace graft::cli
