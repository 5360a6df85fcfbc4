#include "core/omp_wait_policy.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace graft {

bool SetOmpWaitPolicy() {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) {
    return false;
  }
  return ::setenv("GOMP_SPINCOUNT", kGraftGompSpinCount, /*overwrite=*/0) == 0;
}

void RestartWithOmpWaitPolicy(char** argv) {
  if (!SetOmpWaitPolicy()) return;
  std::fflush(nullptr);
  ::execv("/proc/self/exe", argv);
}

}  // namespace graft
