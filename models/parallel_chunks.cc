#include "models/parallel_chunks.h"

#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>

namespace graft::models {

// at::parallel_for is an inline template whose `#pragma omp parallel` compiles into this file:
// graft_models builds with -fopenmp (models/CMakeLists.txt), without which the loop would
// silently run on one thread. Keeping the template out of the header keeps it out of targets
// built without the flag.
void ForEachChunk(int64_t n, int64_t min_chunk, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t threads = at::get_num_threads();
  const int64_t chunk = std::max<int64_t>({1, min_chunk, (n + threads - 1) / threads});
  at::parallel_for(0, n, chunk, [&](int64_t begin, int64_t end) {
    c10::AutoGradMode no_grad(false);  // each worker thread has its own grad mode
    fn(begin, end);
  });
}

}  // namespace graft::models
