// Thread count of libtorch's intra-op parallelism, settable without including libtorch.
#pragma once

namespace graft {

// Sets the number of threads libtorch uses (0 leaves it unchanged).
void SetTorchThreads(int threads);
// The number libtorch currently uses.
int TorchThreads();

}  // namespace graft
