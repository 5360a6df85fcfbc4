// `graft --version`. Compiled into both executables: graft-model (GRAFT_MODEL_EXECUTABLE) prints
// libtorch's version; graft hands the command to graft-model when it is installed beside it.
#include <openssl/crypto.h>
#include <sqlite3.h>

#include <filesystem>
#include <iostream>

#include "cli/command.h"

#ifdef GRAFT_MODEL_EXECUTABLE
#include <torch/version.h>
#else
#include "cli/model_binary.h"
#endif

namespace graft::cli {

int RunVersion([[maybe_unused]] char** argv) {
#ifdef GRAFT_MODEL_EXECUTABLE
  const char* libtorch = "libtorch " TORCH_VERSION;
#else
  if (std::filesystem::exists(ModelBinaryPath())) {
    Status status = ExecModelBinary("--version", argv);
    std::cerr << "graft: " << status.message() << "\n";
  }
  const char* libtorch = "libtorch (not built)";
#endif
  std::cout << "graft " GRAFT_VERSION "\n" << libtorch << "\n";
  std::cout << "SQLite " << sqlite3_libversion() << "\n";
  std::cout << OpenSSL_version(OPENSSL_VERSION) << "\n";
  return kExitOk;
}

}  // namespace graft::cli
