#include "models/parallel_linear.h"

#include <algorithm>

#include "models/parallel_chunks.h"

namespace graft {
namespace {

// A part of a product is worth a thread of its own from about this many multiply-adds on: a few
// microseconds of GEMM, against the cost of handing work to another thread.
constexpr int64_t kMinMultiplyAddsPerPart = 1 << 18;

// The fewest rows (or columns) of a part whose rows each cost `multiply_adds`.
int64_t MinPart(int64_t multiply_adds) {
  return kMinMultiplyAddsPerPart / std::max<int64_t>(1, multiply_adds);
}

// out = a b (+ bias), the rows of a and out split across threads.
void RowSplitProduct(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b,
                     const torch::Tensor& bias) {
  ForEachChunk(a.size(0), MinPart(a.size(1) * b.size(1)), [&](int64_t begin, int64_t end) {
    torch::Tensor part = out.narrow(0, begin, end - begin);
    const torch::Tensor a_part = a.narrow(0, begin, end - begin);
    if (bias.defined()) {
      at::addmm_out(part, bias, a_part, b);
    } else {
      at::mm_out(part, a_part, b);
    }
  });
}

// out = a b, the columns of b and out split across threads.
void ColumnSplitProduct(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b) {
  ForEachChunk(b.size(1), MinPart(a.size(0) * a.size(1)), [&](int64_t begin, int64_t end) {
    torch::Tensor part = out.narrow(1, begin, end - begin);
    at::mm_out(part, a, b.narrow(1, begin, end - begin));
  });
}

torch::Tensor Forward(const torch::Tensor& rows, const torch::Tensor& weight,
                      const torch::Tensor& bias) {
  torch::Tensor y = torch::empty({rows.size(0), weight.size(1)}, rows.options());
  RowSplitProduct(y, rows, weight, bias);
  return y;
}

torch::Tensor SaveAndForward(torch::autograd::AutogradContext* ctx, const torch::Tensor& rows,
                             const torch::Tensor& weight, const torch::Tensor& bias) {
  // Each gradient needs the other operand; keep only what a requested one reads, so that a
  // frozen layer does not hold on to its input.
  ctx->save_for_backward({weight.requires_grad() ? rows : torch::Tensor(),
                          rows.requires_grad() ? weight : torch::Tensor()});
  return Forward(rows, weight, bias);
}

// libtorch's Function cannot take an undefined tensor as an input, so a layer without a bias has
// a forward of its own, and the backward returns gradients for only the inputs given.
class ParallelLinearFunction : public torch::autograd::Function<ParallelLinearFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& rows,
                               const torch::Tensor& weight, const torch::Tensor& bias) {
    ctx->saved_data["bias"] = true;
    return SaveAndForward(ctx, rows, weight, bias);
  }

  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& rows,
                               const torch::Tensor& weight) {
    ctx->saved_data["bias"] = false;
    return SaveAndForward(ctx, rows, weight, torch::Tensor());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const torch::Tensor& rows = saved[0];
    const torch::Tensor& weight = saved[1];
    const torch::Tensor& dy = grads[0];
    torch::autograd::variable_list result(ctx->saved_data["bias"].toBool() ? 3 : 2);
    if (ctx->needs_input_grad(0)) {
      result[0] = torch::empty({dy.size(0), weight.size(0)}, dy.options());
      RowSplitProduct(result[0], dy, weight.t(), torch::Tensor());
    }
    if (ctx->needs_input_grad(1)) {
      result[1] = torch::empty({rows.size(1), dy.size(1)}, dy.options());
      ColumnSplitProduct(result[1], rows.t(), dy);
    }
    if (result.size() == 3 && ctx->needs_input_grad(2)) result[2] = dy.sum(0);
    return result;
  }
};

}  // namespace

torch::Tensor ParallelLinear(const torch::Tensor& rows, const torch::Tensor& weight,
                             const torch::Tensor& bias) {
  const bool differentiable =
      torch::GradMode::is_enabled() &&
      (rows.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad()));
  if (!differentiable) return Forward(rows, weight, bias);
  return bias.defined() ? ParallelLinearFunction::apply(rows, weight, bias)
                        : ParallelLinearFunction::apply(rows, weight);
}

}  // namespace graft
