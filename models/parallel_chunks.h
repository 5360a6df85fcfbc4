// ForEachChunk: splits a loop across libtorch's intra-op threads, one chunk per thread, for
// graft's own parallel GEMM, attention and element-wise code.
#pragma once

#include <cstdint>
#include <functional>

namespace graft::models {

// Calls fn(begin, end) over [0, n) in at most at::get_num_threads() chunks of at least
// `min_chunk` items, in parallel; the chunks are the same for the same n and thread count. ATen
// operations inside `fn` run on the calling thread (ATen does not nest parallel regions) with
// grad mode off: `fn` writes into preallocated outputs.
void ForEachChunk(int64_t n, int64_t min_chunk, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace graft::models
