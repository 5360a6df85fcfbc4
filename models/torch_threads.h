// Thread count of libtorch's compute (BLAS and intra-op), settable without including libtorch.
#pragma once

namespace graft {

// Runs libtorch's compute on `threads` threads (0 leaves it unchanged). With a BLAS that keeps
// its own thread pool (OpenBLAS built with pthreads, Debian's default), the matrix products get
// `threads` BLAS threads and ATen's element-wise OpenMP pool gets one thread: two pools of
// `threads` spin-wait against each other on the same cores, which measured up to 2x slower
// (bench/README.md, "train"). Otherwise ATen's pool gets `threads`.
void SetTorchThreads(int threads);

}  // namespace graft
