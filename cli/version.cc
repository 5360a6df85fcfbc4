#include <openssl/crypto.h>
#include <sqlite3.h>

#include "cli/command.h"

#ifdef GRAFT_WITH_TORCH
#include <torch/version.h>
#endif

namespace graft::cli {

void PrintVersions(std::ostream& out) {
  out << "graft " GRAFT_VERSION "\n";
#ifdef GRAFT_WITH_TORCH
  out << "libtorch " TORCH_VERSION "\n";
#else
  out << "libtorch (not built)\n";
#endif
  out << "SQLite " << sqlite3_libversion() << "\n";
  out << OpenSSL_version(OPENSSL_VERSION) << "\n";
}

}  // namespace graft::cli
