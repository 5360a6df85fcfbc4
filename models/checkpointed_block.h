// CheckpointedBlock: activation checkpointing of one transformer block (recomputed in backward).
#pragma once

#include <torch/torch.h>

#include <functional>

namespace graft::models {

using BlockFn = std::function<torch::Tensor(const torch::Tensor&)>;

// fn(h) whose intermediate activations are not kept for the backward pass: the forward runs
// without grad and saves only `h` (and the CPU RNG state, so LoRA dropout draws the same masks);
// the backward runs fn again with grad and back-propagates through it, accumulating the
// gradients of the parameters fn uses (the LoRA weights) and returning h's. `fn` must capture
// what it reads by value: it runs again after the caller's forward has returned.
torch::Tensor CheckpointedBlock(const torch::Tensor& h, BlockFn fn);

}  // namespace graft::models
