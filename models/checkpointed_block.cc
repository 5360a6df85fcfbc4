#include "models/checkpointed_block.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/custom_class.h>

#include <mutex>

namespace graft::models {
namespace {

// What the backward needs besides h: the block and the RNG state its forward started from.
struct SavedBlock : torch::CustomClassHolder {
  BlockFn fn;
  torch::Tensor rng_state;
};

torch::Tensor RngState() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void SetRngState(const torch::Tensor& state) {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

class CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& h,
                               c10::intrusive_ptr<SavedBlock> saved) {
    saved->rng_state = RngState();
    torch::Tensor out = saved->fn(h);
    ctx->save_for_backward({h});
    ctx->saved_data["block"] = c10::IValue::make_capsule(std::move(saved));
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved =
        c10::static_intrusive_pointer_cast<SavedBlock>(ctx->saved_data["block"].toCapsule());
    const torch::Tensor h = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    const torch::Tensor after_forward = RngState();
    SetRngState(saved->rng_state);
    torch::Tensor out;
    {
      torch::AutoGradMode grad(true);
      out = saved->fn(h);
    }
    SetRngState(after_forward);
    torch::autograd::backward({out}, {grads[0]});
    return {h.grad(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor CheckpointedBlock(const torch::Tensor& h, BlockFn fn) {
  auto saved = c10::make_intrusive<SavedBlock>();
  saved->fn = std::move(fn);
  // The output must require grad for the backward to reach the block's LoRA weights, even when
  // h does not (the first block's input, from a frozen embedding).
  const torch::Tensor input = h.requires_grad() ? h : h.detach().requires_grad_(true);
  return CheckpointFunction::apply(input, std::move(saved));
}

}  // namespace graft::models
