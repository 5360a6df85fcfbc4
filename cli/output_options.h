// The machine-output convention of every command (docs/cli.md, "Machine output"): --json puts one
// JSON document on stdout; --json-out, --junit, --markdown, --html and --lm-eval name files; the
// spellings of earlier releases are rewritten to these, with a deprecation warning.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "cli/command.h"

namespace graft::cli {

// A file a command can write, named by its own option: `--json-out FILE`, `--junit FILE`,
// `--markdown FILE`, `--html FILE`, `--lm-eval DIR`.
enum class OutputFile { kJson, kJunit, kMarkdown, kHtml, kLmEval };

// Adds the option of each of `files`; `what` says what goes in them ("the decision").
void AddOutputFileOptions(po::options_description& options, const std::vector<OutputFile>& files,
                          const std::string& what);
// The option of `file`, as typed: "--json-out".
std::string OptionName(OutputFile file);
// The path given to the option of `file`; empty when it was not given.
std::filesystem::path OutputPath(const po::variables_map& vm, OutputFile file);

// Rewrites the deprecated spellings in `args`, the arguments of `command` ("gate", "report
// audit"), to the current ones: `--json FILE` (gate, eval) to `--json-out FILE`, `--format json`
// (report, lineage) to `--json`, `--format F --out FILE` (report) to `--html|--markdown|--json-out
// FILE`, `--format lm-eval --out DIR` (eval) to `--lm-eval DIR`. Prints one `warning: ... is
// deprecated; use ...` line on `warnings` per rewrite, once per process tree (graft-model and
// data-parallel workers re-read the same command line and stay silent).
void RewriteDeprecatedSpellings(const std::string& command, std::vector<std::string>& args,
                                std::ostream& warnings);

}  // namespace graft::cli
