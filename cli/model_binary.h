// graft-model: the executable with libtorch that runs the commands graft hands over (those that
// run a model, and --version). It is installed beside graft; see docs/cli.md, "Two executables".
#pragma once

#include <filesystem>
#include <string_view>

#include "core/status.h"

namespace graft::cli {

// graft-model's path: in the directory of the running executable (/proc/self/exe); empty when
// that cannot be read.
std::filesystem::path ModelBinaryPath();

// Replaces this process with graft-model, given main's `argv` with argv[0] set to graft-model's
// path. Returns only on failure, an Internal error that names `command` when graft-model is
// missing.
Status ExecModelBinary(std::string_view command, char** argv);

}  // namespace graft::cli
