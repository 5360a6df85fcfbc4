// GeluTanh: GPT-2's GELU (tanh approximation) on float CPU tensors through graft's vectorised
// kernel (models/gelu_tanh_kernel.h), with its own backward for training.
#pragma once

#include <torch/torch.h>

namespace graft::models {

// Equals torch::gelu(x, "tanh") within float rounding (relative 1e-6). Contiguous float32 CPU
// tensors take graft's kernel; anything else falls back to ATen's. Differentiable.
torch::Tensor GeluTanh(const torch::Tensor& x);

}  // namespace graft::models
