// Test support: runs the built graft binary in a child process and captures its output.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace graft::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  long peak_rss_kib = 0;  // the child's peak resident set size (wait4's ru_maxrss)
};

// Runs `graft args...` with extra environment variables (added to the current environment)
// in `cwd` (the current directory when empty). Never throws; a spawn failure gives exit -1.
CliResult RunGraft(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env = {},
                   const std::filesystem::path& cwd = {});
// The same with another executable, e.g. a copy of graft.
CliResult RunBinary(const std::filesystem::path& binary, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env = {},
                    const std::filesystem::path& cwd = {});

// The path of the built graft binary.
std::filesystem::path GraftBinary();
// The path of the built graft-model binary (beside graft); empty in a build without libtorch.
std::filesystem::path ModelBinary();
// The OpenSSF model signing vectors kept in the repository (tests/data/interop).
std::filesystem::path InteropDir();
std::filesystem::path SourceDir();

}  // namespace graft::testing
