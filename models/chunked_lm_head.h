// TargetLogProbs: log-probabilities of chosen tokens through the LM head, a chunk of rows at a
// time, so the [tokens, vocabulary] logits are never held in full (forward or backward).
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace graft::models {

// log softmax(hidden head^T)[i, targets[i]] for `hidden` [N, d] F32, `head` [V, d] (F32, or
// BF16/F16 computed in F32) and `targets` [N] int64 → [N] F32; a negative target (ignored, as
// PyTorch's ignore_index) gives 0. The logits are computed in blocks of at most `chunk_rows` rows
// (0: as many as make ~64 MB of logits), which the intra-op threads take in turn: memory is
// O(threads × chunk × V), not O(N × V). Differentiable in `hidden`, and in `head` if it requires
// grad. With a frozen head, the gradient with respect to `hidden` is computed in the forward
// pass, from the same logits, and kept ([N, d]); a trainable head's backward pass computes the
// logits again, ~32 MB of them at a time.
torch::Tensor TargetLogProbs(const torch::Tensor& hidden, const torch::Tensor& head,
                             const torch::Tensor& targets, int64_t chunk_rows = 0);

}  // namespace graft::models
