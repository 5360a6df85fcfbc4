// Thread count of libtorch's compute (BLAS and intra-op), settable without including libtorch.
#pragma once

namespace graft::models {

// Runs libtorch's compute on `threads` threads (0 leaves libtorch's default, one per core):
// ATen's intra-op pool gets `threads`, and the models split their GEMMs across that same pool
// (parallel_linear.h, causal_attention.h), each part one single-threaded BLAS call. So creating a
// CausalLM sets an OpenBLAS with a thread pool of its own (built with pthreads, Debian's
// default) to one thread: its workers would otherwise be nested inside ATen's. (The split before
// gave OpenBLAS the threads and ATen one, which left element-wise work on one core while
// OpenBLAS's other threads spin-yielded: bench/README.md, "train".)
void SetTorchThreads(int threads);

// Gives an OpenBLAS built with pthreads a pool of `threads` (no effect on other BLAS builds):
// how libtorch runs a plain matrix product by default, which benchmarks compare against.
void SetBlasThreads(int threads);

}  // namespace graft::models
