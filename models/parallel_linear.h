// ParallelLinear: y = x W + b with its GEMMs (forward and backward) split across libtorch's
// intra-op threads, each part one single-threaded BLAS call. graft runs the model's GEMMs and
// element-wise work in one thread pool this way (see torch_threads.h) instead of leaving BLAS a
// pool of its own.
#pragma once

#include <torch/torch.h>

namespace graft::models {

// `rows` [M, in], `weight` [in, out] (any layout BLAS takes, such as the transpose of a
// contiguous [out, in]), `bias` [out] or undefined → [M, out]. Differentiable in all three:
// gradients are computed only for those that require them.
torch::Tensor ParallelLinear(const torch::Tensor& rows, const torch::Tensor& weight,
                             const torch::Tensor& bias);

}  // namespace graft::models
