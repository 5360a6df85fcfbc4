// Documentation generated from the command table: man pages and bash and zsh completion.
#pragma once

#include <string>
#include <vector>

namespace graft::cli {

// The man page graft.1 (commands, global options, exit codes, environment) and one page per
// command group, graft-<group>.1, with every verb's usage, summary and options (roff).
std::string RenderTopManPage();
std::string RenderGroupManPage(const std::string& group);

// Completion scripts for the commands, verbs and options of the table.
std::string RenderBashCompletion();
std::string RenderZshCompletion();

// The hidden commands `graft __man DIR` (writes graft.1 and graft-<group>.1 into DIR) and
// `graft __completion bash|zsh [FILE]` (prints or writes the script); `args` starts with the
// command's name.
int RunDocsGenerator(const std::vector<std::string>& args);

}  // namespace graft::cli
