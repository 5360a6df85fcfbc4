#include "models/chunked_lm_head.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>

#include "models/parallel_chunks.h"
#include "models/parallel_linear.h"
#include "models/softmax_kernel.h"

namespace graft::models {
namespace {

// Floats of logits each thread holds at once in the forward pass (64 MB): blocks of a few hundred
// rows, because BLAS reads and packs the whole [V, d] head once per call, which a block of 80
// rows (a 32 MB chunk split over two threads) pays for with a third of its time.
constexpr int64_t kBlockLogits = 16 << 20;
// Floats of logits per chunk when a trainable head's backward computes the logits again (32 MB).
constexpr int64_t kChunkLogits = 8 << 20;

int64_t ChunkRows(int64_t chunk_rows, int64_t vocab, int64_t floats) {
  return chunk_rows > 0 ? chunk_rows : std::max<int64_t>(16, floats / vocab);
}

// rows [n, d] times head [V, d] transposed (F32; or BF16/F16, converted by ParallelLinear) on the
// calling thread; an F32 head writes into `buffer` (at least [n, V]).
torch::Tensor HeadLogits(const torch::Tensor& rows, const torch::Tensor& head,
                         const torch::Tensor& buffer) {
  if (head.scalar_type() != torch::kFloat) return ParallelLinear(rows, head.t(), {});
  torch::Tensor out = buffer.narrow(0, 0, rows.size(0));
  ProductOnThisThread(out, rows, head.t(), {});
  return out;
}

// The forward pass, `block_rows` rows of `hidden` at a time: log p(target) into `out` (0 where the
// target is negative), the log-sum-exp into `lse` and, when `gradient` is defined,
// d(-log p(target)) / d hidden = (softmax - onehot) head into its rows, while the block's logits
// are at hand. Each thread calls Run once and takes the next block as it finishes one, so a
// thread slowed by other work on the machine takes fewer; a row's values do not depend on which
// thread computes it.
struct HeadPass {
  torch::Tensor hidden;  // [N, d]
  torch::Tensor head;    // [V, d]
  const int64_t* targets;
  int64_t block_rows;
  float* out;
  float* lse;
  torch::Tensor gradient;  // [N, d] or undefined
  std::atomic<int64_t> next_block{0};

  void Run() {
    const int64_t rows = hidden.size(0);
    const int64_t vocab = head.size(0);
    torch::Tensor buffer;
    if (head.scalar_type() == torch::kFloat) {
      buffer = torch::empty({block_rows, vocab}, hidden.options());
    }
    for (int64_t first; (first = next_block.fetch_add(1) * block_rows) < rows;) {
      const int64_t n = std::min(block_rows, rows - first);
      const torch::Tensor logits = HeadLogits(hidden.narrow(0, first, n), head, buffer);
      for (int64_t i = 0; i < n; ++i) {
        float* row = logits.data_ptr<float>() + i * logits.stride(0);
        const int64_t target = targets[first + i];
        const float picked = target >= 0 ? row[target] : 0.0f;
        const float row_lse = gradient.defined() ? CrossEntropyGradientRow(row, vocab, target)
                                                 : LogSumExpRow(row, vocab);
        lse[first + i] = row_lse;
        out[first + i] = target >= 0 ? picked - row_lse : 0.0f;
      }
      if (!gradient.defined()) continue;
      torch::Tensor rows_gradient = gradient.narrow(0, first, n);
      if (head.scalar_type() == torch::kFloat) {
        ProductOnThisThread(rows_gradient, logits, head, {});
      } else {
        rows_gradient.copy_(ParallelLinear(logits, head, {}));
      }
    }
  }
};

// Rows per block: at most `max_rows`, and a multiple of the thread count of blocks, so that on an
// idle machine every thread gets the same number of rows.
int64_t BlockRows(int64_t rows, int64_t max_rows, int64_t threads) {
  const int64_t per_thread = (rows + threads - 1) / threads;
  const int64_t blocks = threads * ((per_thread + max_rows - 1) / max_rows);
  return std::max<int64_t>(1, (rows + blocks - 1) / blocks);
}

class TargetLogProbsFunction : public torch::autograd::Function<TargetLogProbsFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& hidden,
                               const torch::Tensor& head, const torch::Tensor& targets,
                               int64_t chunk_rows) {
    const int64_t rows = hidden.size(0);
    const torch::Tensor ids = targets.contiguous();
    torch::Tensor out = torch::empty({rows}, hidden.options());
    torch::Tensor lse = torch::empty({rows}, hidden.options());
    // A frozen head (LoRA): the gradient each row will need is computed now, from the logits at
    // hand, instead of computing the logits a second time in the backward pass.
    const bool eager = hidden.requires_grad() && !head.requires_grad();
    torch::Tensor gradient =
        eager ? torch::empty({rows, hidden.size(1)}, hidden.options()) : torch::Tensor();
    const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), rows));
    HeadPass pass{hidden,
                  head,
                  ids.data_ptr<int64_t>(),
                  BlockRows(rows, ChunkRows(chunk_rows, head.size(0), kBlockLogits), threads),
                  out.data_ptr<float>(),
                  lse.data_ptr<float>(),
                  gradient};
    ForEachChunk(threads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) pass.Run();
    });
    const torch::Tensor ignored = ids.lt(0);
    if (eager) {
      ctx->save_for_backward({gradient, ignored});
    } else {
      ctx->save_for_backward({hidden, head, ids.clamp_min(0).unsqueeze(1), ignored, lse});
      ctx->saved_data["chunk"] = ChunkRows(chunk_rows, head.size(0), kChunkLogits);
    }
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    if (saved.size() == 2) {  // computed in the forward pass: scale each row by its gradient
      const torch::Tensor grad = grads[0].masked_fill(saved[1], 0);
      return {saved[0] * grad.neg().unsqueeze(1), torch::Tensor(), torch::Tensor(),
              torch::Tensor()};
    }
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

}  // namespace graft::models
