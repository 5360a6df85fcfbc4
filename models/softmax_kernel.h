// Torch-free, vectorised row softmax for block-causal attention (causal_attention.cc) and its
// backward, and the log-sum-exp and cross-entropy gradient of the LM head's rows
// (chunked_lm_head.cc). Exponentials use the same polynomial as gelu_tanh_kernel.h, so every CPU
// computes the same bits.
#pragma once

#include <cstdint>

namespace graft::models {

// In place over `rows` rows of `width` floats, `stride` floats apart. Row r is causal: only its
// first min(first_visible + r, width) entries are scored; the rest become exactly 0. Visible
// entries get exp(x - max) / sum; an entry whose exp underflows (x - max < -87) gets 0.
void CausalSoftmaxRows(float* data, int64_t rows, int64_t width, int64_t stride,
                       int64_t first_visible);

// The softmax's backward, in place over `grad` (same layout as `probs`): each row becomes
// p * (g - sum(g * p)), the gradient of the scores given the gradient g of the probabilities p.
void SoftmaxBackwardRows(const float* probs, float* grad, int64_t rows, int64_t width,
                         int64_t stride);

// log(sum(exp(row))) over `width` floats (>= 1), as max + log(sum(exp(x - max))); the sum is
// accumulated in double a few hundred terms at a time, so a 50,000-wide row loses no precision.
float LogSumExpRow(const float* row, int64_t width);

// Returns LogSumExpRow(row, width) and turns the row into softmax(row) minus 1 at `target` (no
// subtraction when target < 0): the gradient of -log softmax(row)[target] with respect to the row.
float CrossEntropyGradientRow(float* row, int64_t width, int64_t target);

}  // namespace graft::models
