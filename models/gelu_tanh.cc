#include "models/gelu_tanh.h"

#include "models/gelu_tanh_kernel.h"
#include "models/parallel_chunks.h"

namespace graft::models {
namespace {

bool KernelApplies(const torch::Tensor& x) {
  return x.scalar_type() == torch::kFloat32 && x.device().is_cpu() && x.is_contiguous();
}

// Elements per thread below which one thread does it all.
constexpr int64_t kMinChunk = 1 << 15;

torch::Tensor Forward(const torch::Tensor& x) {
  torch::Tensor y = torch::empty_like(x);
  const float* in = x.data_ptr<float>();
  float* out = y.data_ptr<float>();
  ForEachChunk(x.numel(), kMinChunk, [&](int64_t begin, int64_t end) {
    GeluTanhForward(in + begin, out + begin, end - begin);
  });
  return y;
}

class GeluTanhFunction : public torch::autograd::Function<GeluTanhFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    ctx->save_for_backward({x});
    return Forward(x);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    const torch::Tensor dy = grads[0].contiguous();
    torch::Tensor dx = torch::empty_like(x);
    const float* in = x.data_ptr<float>();
    const float* grad = dy.data_ptr<float>();
    float* out = dx.data_ptr<float>();
    ForEachChunk(x.numel(), kMinChunk, [&](int64_t begin, int64_t end) {
      GeluTanhBackward(in + begin, grad + begin, out + begin, end - begin);
    });
    return {dx};
  }
};

}  // namespace

torch::Tensor GeluTanh(const torch::Tensor& x) {
  if (!KernelApplies(x)) return torch::gelu(x, "tanh");
  if (torch::GradMode::is_enabled() && x.requires_grad()) return GeluTanhFunction::apply(x);
  return Forward(x);
}

}  // namespace graft::models
