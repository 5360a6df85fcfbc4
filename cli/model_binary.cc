// Finding graft-model beside graft and handing it the command line (cli/model_binary.h).
#include "cli/model_binary.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "core/omp_wait_policy.h"

namespace graft::cli {
namespace fs = std::filesystem;

namespace {

constexpr char kModelBinaryName[] = "graft-model";

fs::path SelfPath() {
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : self;
}

}  // namespace

fs::path ModelBinaryPath() {
  const fs::path self = SelfPath();
  return self.empty() ? fs::path() : self.parent_path() / kModelBinaryName;
}

Status ExecModelBinary(std::string_view command, char** argv) {
  const fs::path model = ModelBinaryPath();
  if (model.empty()) {
    return InternalError("'" + std::string(command) +
                         "' runs a model in graft-model, found beside graft, but /proc/self/exe "
                         "does not say where graft is");
  }
  if (SelfPath() == model) {
    // graft-model has a runner for every command that names one: reaching here is a bug, and
    // exec'ing again would loop.
    return InternalError("graft-model has no runner for '" + std::string(command) + "'");
  }
  std::vector<char*> model_argv;
  std::string model_path = model.string();
  model_argv.push_back(model_path.data());
  for (char** arg = argv + 1; *arg != nullptr; ++arg) model_argv.push_back(*arg);
  model_argv.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  SetOmpWaitPolicy();  // libgomp, loaded with libtorch, reads it once at start
  ::execv(model_path.c_str(), model_argv.data());
  const int exec_errno = errno;
  if (exec_errno == ENOENT) {
    return InternalError("'" + std::string(command) + "' runs a model and needs graft-model next " +
                         "to graft (" + model_path + "); this build has no libtorch");
  }
  return InternalError("cannot run " + model_path + ": " + std::strerror(exec_errno));
}

}  // namespace graft::cli
