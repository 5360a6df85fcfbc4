// CausalAttention: softmax(q k^T * scale + bias) v for a causal language model, with a
// hand-written backward. Queries go in blocks of kAttentionQueryBlock, each scored against only
// the keys the causal mask lets it see (the hidden ones would get weight 0), and the (batch,
// head) pairs are split across libtorch's intra-op threads, each pair's GEMMs one
// single-threaded BLAS call (see parallel_linear.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace graft::models {

inline constexpr int64_t kAttentionQueryBlock = 64;

// q [B, H, T, D]; k, v [B, KV, S, D] with S >= T and KV dividing H (grouped-query attention:
// query head h attends to kv head h / (H / KV); KV = H is multi-head attention). The queries are
// the last T of the S positions (S - T cached ones come first), and query i sees keys
// j <= S - T + i. `bias` is undefined when only that causal mask applies, else an additive
// [B * H, T, S] of 0 and the lowest float (for padding) on top of it. Returns [B, T, H * D], the
// heads merged. Differentiable in q, k and v. F32 on CPU.
torch::Tensor CausalAttention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, const torch::Tensor& bias, double scale);

}  // namespace graft::models
