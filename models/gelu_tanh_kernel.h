// Torch-free float kernels of GPT-2's GELU (tanh approximation) and its derivative, vectorised.
//
// gelu(x) = 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3), computed as the identical
// x * sigmoid(2u): one exponential per element instead of a tanh, which is what makes it cheaper
// than ATen's kernel. Results are the same on every CPU (no fused multiply-add).
#pragma once

#include <cstdint>

namespace graft::models {

// y[i] = gelu(x[i]) for i < n. `x` and `y` may be the same array.
void GeluTanhForward(const float* x, float* y, int64_t n);

// dx[i] = dy[i] * gelu'(x[i]) for i < n. `dx` may be `dy`.
void GeluTanhBackward(const float* x, const float* dy, float* dx, int64_t n);

}  // namespace graft::models
