// TargetLogProbs: log-probabilities of chosen tokens through the LM head, a chunk of rows at a
// time, so the [tokens, vocabulary] logits are never held in full (forward or backward).
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace graft {

// log softmax(hidden head^T)[i, targets[i]] for `hidden` [N, d] F32, `head` [V, d] (F32, or
// BF16/F16 computed in F32) and `targets` [N] int64 → [N] F32; a negative target (ignored, as
// PyTorch's ignore_index) gives 0. Logits are computed `chunk_rows` rows at a time (0: as many
// as make ~32 MB of logits), and again in the backward pass instead of being saved: memory is
// O(chunk × V), not O(N × V). Differentiable in `hidden`, and in `head` if it requires grad.
torch::Tensor TargetLogProbs(const torch::Tensor& hidden, const torch::Tensor& head,
                             const torch::Tensor& targets, int64_t chunk_rows = 0);

}  // namespace graft
