// ParallelLinear: y = x W + b with its GEMMs (forward and backward) split across libtorch's
// intra-op threads, each part one single-threaded product (graft's packed GEMM, packed_gemm.h,
// on CPUs with AVX-512; BLAS otherwise). graft runs the model's GEMMs and
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

// out = a b (+ bias) on the calling thread alone, for callers that split the work across threads
// themselves: a [M, K], b [K, N] (any strides), bias [N] or undefined, out [M, N] (F32) with
// contiguous rows. F32 operands go to the packed GEMM where it takes them (PackedGemmTakes);
// anything else to ATen.
void ProductOnThisThread(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
                         const torch::Tensor& bias);

}  // namespace graft::models
