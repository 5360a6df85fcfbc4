// Thread count of libtorch's compute (BLAS and intra-op), settable without including libtorch.
#pragma once

namespace graft {

// Runs libtorch's compute on `threads` threads (0 leaves it unchanged): ATen's intra-op pool
// gets `threads`, and the model's GEMMs split their work across that same pool
// (parallel_linear.h, causal_attention.h), each part one single-threaded BLAS call. So an
// OpenBLAS with a thread pool of its own (built with pthreads, Debian's default) is set to one
// thread: its idle workers spin-yielding against ATen's pool measured up to 2x slower, and a
// split between the pools left element-wise work on one core (bench/README.md, "train").
void SetTorchThreads(int threads);

// Gives an OpenBLAS built with pthreads a pool of `threads` (no effect on other BLAS builds):
// how libtorch runs a plain matrix product by default, which benchmarks compare against.
void SetBlasThreads(int threads);

}  // namespace graft
