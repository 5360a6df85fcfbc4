#include "models/causal_attention.h"

#include <algorithm>
#include <vector>

#include "models/gemv_kernels.h"
#include "models/parallel_chunks.h"
#include "models/softmax_kernel.h"

namespace graft::models {
namespace {

// A block of queries [start, start + length), which sees keys [0, visible). Its probabilities
// [length, visible] sit at `offset` in its (batch, head) pair's packed store.
struct QueryBlock {
  int64_t start = 0;
  int64_t length = 0;
  int64_t visible = 0;
  int64_t offset = 0;
};

struct Layout {
  int64_t batch = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;  // k's and v's heads: query head h reads kv head h / (heads / kv_heads)
  int64_t queries = 0;
  int64_t keys = 0;
  int64_t dim = 0;
  std::vector<QueryBlock> blocks;
  int64_t packed = 0;  // floats of probabilities per pair

  explicit Layout(const torch::Tensor& q, const torch::Tensor& k)
      : batch(q.size(0)),
        heads(q.size(1)),
        kv_heads(k.size(1)),
        queries(q.size(2)),
        keys(k.size(2)),
        dim(q.size(3)) {
    const int64_t past = keys - queries;
    for (int64_t start = 0; start < queries; start += kAttentionQueryBlock) {
      const int64_t length = std::min(kAttentionQueryBlock, queries - start);
      blocks.push_back({start, length, past + start + length, packed});
      packed += length * (past + start + length);
    }
  }

  int64_t pairs() const { return batch * heads; }
  // Pair i's [rows, D] matrix of x [B, H, rows, D].
  torch::Tensor Head(const torch::Tensor& x, int64_t i) const {
    return x.select(0, i / heads).select(0, i % heads);
  }
  // The [rows, D] matrix of k or v [B, kv_heads, rows, D] that pair i attends to.
  torch::Tensor KvHead(const torch::Tensor& x, int64_t i) const {
    return x.select(0, i / heads).select(0, i % heads / (heads / kv_heads));
  }
  // Pair i's [rows, D] matrix of x [B, rows, H, D] (the merged-heads layout).
  torch::Tensor MergedHead(const torch::Tensor& x, int64_t i) const {
    return x.select(0, i / heads).select(1, i % heads);
  }
  // Block `b`'s probabilities in pair i's packed row of `store`.
  torch::Tensor Probabilities(const torch::Tensor& store, int64_t i, const QueryBlock& b) const {
    return store.select(0, i).narrow(0, b.offset, b.length * b.visible).view({b.length, b.visible});
  }
};

// One query row q [D] against the first `visible` rows of k and v [S, D] into out [D], with
// an additive bias row (or none), through the matrix-vector kernels: at one row a BLAS call's
// set-up and packing cost more than its arithmetic, and generation attends one new position per
// head and step. `scores` has room for `visible` floats. Returns false, doing nothing, for
// operands whose rows are not contiguous (the caller then uses BLAS).
bool AttendOneQuery(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                    const torch::Tensor& bias, double scale, int64_t visible,
                    const torch::Tensor& scores, const torch::Tensor& out) {
  const bool contiguous_rows = q.stride(0) == 1 && k.stride(1) == 1 && v.stride(1) == 1 &&
                               out.stride(0) == 1 && (!bias.defined() || bias.stride(0) == 1);
  if (!contiguous_rows) return false;
  const int64_t dim = q.size(0);
  float* p = scores.data_ptr<float>();
  GemvRows(k.data_ptr<float>(), GemvWeights::kF32, k.stride(0), dim, q.data_ptr<float>(), dim, 1, 0,
           visible, nullptr, p, visible);
  // As the BLAS path's addmm: bias + scale · (q k^T).
  const float* bias_row = bias.defined() ? bias.data_ptr<float>() : nullptr;
  const auto scale_f = static_cast<float>(scale);
  for (int64_t j = 0; j < visible; ++j) p[j] = p[j] * scale_f + (bias_row ? bias_row[j] : 0.0f);
  CausalSoftmaxRows(p, 1, visible, visible, visible);
  CombineRows(p, visible, v.data_ptr<float>(), v.stride(0), dim, out.data_ptr<float>());
  return true;
}

// The attention of pair i, block by block, into `out` [T, D]. `store` is either the packed
// probabilities of every pair, [pairs, packed] as Layout describes, kept for the backward; or
// one block's scratch space, [kAttentionQueryBlock * S].
void AttendPair(const Layout& layout, int64_t i, const torch::Tensor& q, const torch::Tensor& k,
                const torch::Tensor& v, const torch::Tensor& bias, double scale,
                const torch::Tensor& store, torch::Tensor& out) {
  const bool packed = store.dim() == 2;
  const torch::Tensor qi = layout.Head(q, i);
  const torch::Tensor ki = layout.KvHead(k, i);
  const torch::Tensor vi = layout.KvHead(v, i);
  const int64_t past = layout.keys - layout.queries;
  for (const QueryBlock& b : layout.blocks) {
    if (!packed && b.length == 1 &&
        AttendOneQuery(qi.select(0, b.start), ki, vi,
                       bias.defined() ? bias.select(0, i)[b.start] : bias, scale, b.visible, store,
                       out[b.start])) {
      continue;
    }
    torch::Tensor p = packed ? layout.Probabilities(store, i, b)
                             : store.narrow(0, 0, b.length * b.visible).view({b.length, b.visible});
    const torch::Tensor queries = qi.narrow(0, b.start, b.length);
    const torch::Tensor keys_t = ki.narrow(0, 0, b.visible).t();
    if (bias.defined()) {
      const torch::Tensor block_bias = bias.select(0, i).narrow(0, b.start, b.length);
      at::addmm_out(p, block_bias.narrow(1, 0, b.visible), queries, keys_t, 1, scale);
    } else {
      at::addmm_out(p, p, queries, keys_t, /*beta=*/0, scale);
    }
    CausalSoftmaxRows(p.data_ptr<float>(), b.length, b.visible, b.visible, past + b.start + 1);
    torch::Tensor out_block = out.narrow(0, b.start, b.length);
    at::mm_out(out_block, p, vi.narrow(0, 0, b.visible));
  }
}

// Returns [B, T, H, D]; keeps the probabilities in `*saved` when it is given.
torch::Tensor Forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                      const torch::Tensor& bias, double scale, torch::Tensor* saved) {
  const Layout layout(q, k);
  torch::Tensor out =
      torch::empty({layout.batch, layout.queries, layout.heads, layout.dim}, q.options());
  torch::Tensor store;
  if (saved) store = torch::empty({layout.pairs(), layout.packed}, q.options());
  ForEachChunk(layout.pairs(), 1, [&](int64_t begin, int64_t end) {
    const torch::Tensor scratch =
        saved ? store : torch::empty({kAttentionQueryBlock * layout.keys}, q.options());
    for (int64_t i = begin; i < end; ++i) {
      torch::Tensor out_i = layout.MergedHead(out, i);
      AttendPair(layout, i, q, k, v, bias, scale, scratch, out_i);
    }
  });
  if (saved) *saved = store;
  return out;
}

// What the attention takes besides q, k and v: no gradient flows to it. (A struct, because
// libtorch's Function cannot take an undefined tensor as an input.)
struct Scoring {
  torch::Tensor bias;
  double scale = 1.0;
};

class CausalAttentionFunction : public torch::autograd::Function<CausalAttentionFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& q,
                               const torch::Tensor& k, const torch::Tensor& v,
                               const Scoring& scoring) {
    const double scale = scoring.scale;
    torch::Tensor probabilities;
    torch::Tensor out = Forward(q, k, v, scoring.bias, scale, &probabilities);
    ctx->save_for_backward({q, k, v, probabilities});
    ctx->saved_data["scale"] = scale;
    return out;
  }

  // Per block, with P its probabilities and dO the output's gradient: dV += P^T dO,
  // dS = softmax'(dO V^T), dQ = scale dS K, dK += scale dS^T Q.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const torch::Tensor& q = saved[0];
    const torch::Tensor& k = saved[1];
    const torch::Tensor& v = saved[2];
    const torch::Tensor& store = saved[3];
    const double scale = ctx->saved_data["scale"].toDouble();
    const Layout layout(q, k);
    const torch::Tensor d_out =
        grads[0].reshape({layout.batch, layout.queries, layout.heads, layout.dim});
    torch::Tensor dq =
        torch::empty({layout.batch, layout.queries, layout.heads, layout.dim}, q.options());
    torch::Tensor dk =
        torch::zeros({layout.batch, layout.keys, layout.heads, layout.dim}, q.options());
    torch::Tensor dv = torch::zeros_like(dk);
    ForEachChunk(layout.pairs(), 1, [&](int64_t begin, int64_t end) {
      torch::Tensor scratch = torch::empty({kAttentionQueryBlock * layout.keys}, q.options());
      for (int64_t i = begin; i < end; ++i) {
        const torch::Tensor qi = layout.Head(q, i);
        const torch::Tensor ki = layout.Head(k, i);
        const torch::Tensor vi = layout.Head(v, i);
        const torch::Tensor d_out_i = layout.MergedHead(d_out, i);
        const torch::Tensor dq_i = layout.MergedHead(dq, i);
        const torch::Tensor dk_i = layout.MergedHead(dk, i);
        const torch::Tensor dv_i = layout.MergedHead(dv, i);
        for (const QueryBlock& b : layout.blocks) {
          const torch::Tensor p = layout.Probabilities(store, i, b);
          const torch::Tensor d_out_block = d_out_i.narrow(0, b.start, b.length);
          dv_i.narrow(0, 0, b.visible).addmm_(p.t(), d_out_block);
          torch::Tensor ds = scratch.narrow(0, 0, b.length * b.visible).view({b.length, b.visible});
          at::mm_out(ds, d_out_block, vi.narrow(0, 0, b.visible).t());
          SoftmaxBackwardRows(p.data_ptr<float>(), ds.data_ptr<float>(), b.length, b.visible,
                              b.visible);
          torch::Tensor dq_block = dq_i.narrow(0, b.start, b.length);
          at::addmm_out(dq_block, dq_block, ds, ki.narrow(0, 0, b.visible), /*beta=*/0, scale);
          dk_i.narrow(0, 0, b.visible).addmm_(ds.t(), qi.narrow(0, b.start, b.length), 1, scale);
        }
      }
    });
    return {dq.transpose(1, 2), dk.transpose(1, 2), dv.transpose(1, 2), torch::Tensor()};
  }
};

// [B, kv_heads, S, D] → [B, heads, S, D]: query head h uses kv head h / (heads / kv_heads).
torch::Tensor RepeatKv(const torch::Tensor& x, int64_t heads) {
  const int64_t repeats = heads / x.size(1);
  if (repeats == 1) return x;
  const auto s = x.sizes();
  return x.unsqueeze(2)
      .expand({s[0], s[1], repeats, s[2], s[3]})
      .reshape({s[0], s[1] * repeats, s[2], s[3]});
}

}  // namespace

torch::Tensor CausalAttention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, const torch::Tensor& bias, double scale) {
  TORCH_CHECK(k.size(1) > 0 && q.size(1) % k.size(1) == 0, "CausalAttention: ", q.size(1),
              " query heads cannot share ", k.size(1), " key/value heads");
  const bool differentiable = torch::GradMode::is_enabled() &&
                              (q.requires_grad() || k.requires_grad() || v.requires_grad());
  // Inference reads each kv head in place for all the query heads that share it; the backward
  // works on one kv head per query head, so training repeats them (autograd sums the repeats'
  // gradients back).
  torch::Tensor out =
      differentiable ? CausalAttentionFunction::apply(q, RepeatKv(k, q.size(1)),
                                                      RepeatKv(v, q.size(1)), Scoring{bias, scale})
                     : Forward(q, k, v, bias, scale, nullptr);
  return out.view({q.size(0), q.size(2), q.size(1) * q.size(3)});
}

}  // namespace graft::models
