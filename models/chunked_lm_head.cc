#include "models/chunked_lm_head.h"

#include <algorithm>

#include "models/parallel_linear.h"

namespace graft {
namespace {

constexpr int64_t kChunkLogits = 8 << 20;  // floats of logits per chunk (32 MB)

int64_t ChunkRows(int64_t chunk_rows, int64_t vocab) {
  return chunk_rows > 0 ? chunk_rows : std::max<int64_t>(16, kChunkLogits / vocab);
}

class TargetLogProbsFunction : public torch::autograd::Function<TargetLogProbsFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& hidden,
                               const torch::Tensor& head, const torch::Tensor& targets,
                               int64_t chunk_rows) {
    const int64_t rows = hidden.size(0);
    const int64_t chunk = ChunkRows(chunk_rows, head.size(0));
    const torch::Tensor safe_targets = targets.clamp_min(0).unsqueeze(1);
    const torch::Tensor ignored = targets.lt(0);
    torch::Tensor out = torch::empty({rows}, hidden.options());
    torch::Tensor lse = torch::empty({rows}, hidden.options());
    for (int64_t begin = 0; begin < rows; begin += chunk) {
      const int64_t n = std::min(chunk, rows - begin);
      const torch::Tensor logits = ParallelLinear(hidden.narrow(0, begin, n), head.t(), {});
      torch::Tensor chunk_lse = lse.narrow(0, begin, n);
      at::logsumexp_out(chunk_lse, logits, {1});
      out.narrow(0, begin, n)
          .copy_(logits.gather(1, safe_targets.narrow(0, begin, n)).squeeze(1) - chunk_lse);
    }
    out.masked_fill_(ignored, 0);
    ctx->save_for_backward({hidden, head, safe_targets, ignored, lse});
    ctx->saved_data["chunk"] = chunk;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const torch::Tensor& hidden = saved[0];
    const torch::Tensor& head = saved[1];
    const torch::Tensor& targets = saved[2];
    const torch::Tensor& lse = saved[4];
    const torch::Tensor grad = grads[0].masked_fill(saved[3], 0);
    const int64_t rows = hidden.size(0);
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    torch::Tensor grad_hidden;
    torch::Tensor grad_head;
    if (ctx->needs_input_grad(0)) grad_hidden = torch::empty_like(hidden);
    if (ctx->needs_input_grad(1)) grad_head = torch::zeros(head.sizes(), hidden.options());
    for (int64_t begin = 0; begin < rows; begin += chunk) {
      const int64_t n = std::min(chunk, rows - begin);
      const torch::Tensor h = hidden.narrow(0, begin, n);
      const torch::Tensor g = grad.narrow(0, begin, n).unsqueeze(1);
      // d log p(t) / d logits = onehot(t) - softmax(logits), times the incoming gradient.
      torch::Tensor d_logits = ParallelLinear(h, head.t(), {});
      d_logits.sub_(lse.narrow(0, begin, n).unsqueeze(1)).exp_().mul_(-g);
      d_logits.scatter_add_(1, targets.narrow(0, begin, n), g);
      if (grad_hidden.defined()) {
        grad_hidden.narrow(0, begin, n).copy_(ParallelLinear(d_logits, head, {}));
      }
      if (grad_head.defined()) grad_head.addmm_(d_logits.t(), h);
    }
    return {grad_hidden, grad_head, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor TargetLogProbs(const torch::Tensor& hidden, const torch::Tensor& head,
                             const torch::Tensor& targets, int64_t chunk_rows) {
  return TargetLogProbsFunction::apply(hidden, head, targets, chunk_rows);
}

}  // namespace graft
