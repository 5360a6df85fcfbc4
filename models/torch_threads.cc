#include "models/torch_threads.h"

#include <dlfcn.h>
#include <torch/torch.h>

namespace graft::models {
namespace {

// OpenBLAS's threading model as openblas_get_parallel() reports it.
constexpr int kOpenBlasPthreads = 1;

}  // namespace

void SetBlasThreads(int threads) {
  using GetParallelFn = int (*)();
  using SetThreadsFn = void (*)(int);
  auto get_parallel = reinterpret_cast<GetParallelFn>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
  auto set_blas_threads =
      reinterpret_cast<SetThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (get_parallel != nullptr && set_blas_threads != nullptr &&
      get_parallel() == kOpenBlasPthreads) {
    set_blas_threads(threads);
  }
}

void SetTorchThreads(int threads) {
  if (threads > 0) torch::set_num_threads(threads);
}

}  // namespace graft::models
