#include "models/torch_threads.h"

#include <torch/torch.h>

namespace graft {

void SetTorchThreads(int threads) {
  if (threads > 0) torch::set_num_threads(threads);
}

int TorchThreads() { return torch::get_num_threads(); }

}  // namespace graft
