#include "models/lora_linear.h"

#include "models/parallel_linear.h"
#include "models/q8_weights.h"

namespace graft::models {
namespace {

std::string ShapeString(c10::IntArrayRef shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

}  // namespace

LoraLinear::LoraLinear(std::string name, torch::Tensor weight, torch::Tensor bias, bool conv1d)
    : name_(std::move(name)), weight_(std::move(weight)), bias_(std::move(bias)), conv1d_(conv1d) {}

int64_t LoraLinear::in_features() const { return weight_.size(conv1d_ ? 0 : 1); }
int64_t LoraLinear::out_features() const { return weight_.size(conv1d_ ? 1 : 0); }

torch::Tensor LoraLinear::Forward(const torch::Tensor& x, bool training) const {
  // As 2-D products, so that the bias and the LoRA term accumulate inside the GEMMs instead of
  // taking extra passes over the output.
  const torch::Tensor rows = x.reshape({-1, x.size(-1)});
  const torch::Tensor weight = conv1d_ ? weight_ : weight_.t();  // [in, out]
  torch::Tensor y = ParallelLinear(rows, weight, bias_);
  auto output_shape = x.sizes().vec();
  output_shape.back() = y.size(1);
  if (!active_ || active_ == merged_) return y.view(output_shape);
  auto it = adapters_.find(*active_);
  if (it == adapters_.end()) return y.view(output_shape);  // the adapter does not target it
  const LoraWeights& lora = it->second;
  const torch::Tensor h =
      training && lora.dropout > 0 ? torch::dropout(rows, lora.dropout, true) : rows;
  // y += scaling (h A^T) B^T: through the rank-r intermediate, never forming B A. In place is
  // safe for autograd: neither product's backward reads y.
  y.addmm_(torch::mm(h, lora.a.t()), lora.b.t(), /*beta=*/1, /*alpha=*/lora.scaling);
  return y.view(output_shape);
}

Status LoraLinear::AddAdapter(const std::string& name, LoraWeights weights) {
  if (adapters_.count(name)) {
    return Conflict("layer " + name_ + " already has an adapter named '" + name + "'");
  }
  const int64_t r = weights.a.size(0);
  if (weights.a.dim() != 2 || weights.b.dim() != 2 || weights.a.size(1) != in_features() ||
      weights.b.size(0) != out_features() || weights.b.size(1) != r) {
    return InvalidInput("layer " + name_ + " (in " + std::to_string(in_features()) + ", out " +
                        std::to_string(out_features()) + ") cannot take lora_A " +
                        ShapeString(weights.a.sizes()) + " and lora_B " +
                        ShapeString(weights.b.sizes()));
  }
  adapters_.emplace(name, std::move(weights));
  return Status::Ok();
}

void LoraLinear::RemoveAdapter(const std::string& name) { adapters_.erase(name); }

const LoraWeights* LoraLinear::Adapter(const std::string& name) const {
  auto it = adapters_.find(name);
  return it == adapters_.end() ? nullptr : &it->second;
}

Status LoraLinear::SetAdapterValues(const std::string& name, const torch::Tensor& a,
                                    const torch::Tensor& b) {
  auto it = adapters_.find(name);
  if (it == adapters_.end()) return NotFound("layer " + name_ + " has no adapter '" + name + "'");
  for (const auto& [what, have, given] :
       {std::tuple{"lora_A", it->second.a, a}, std::tuple{"lora_B", it->second.b, b}}) {
    if (have.sizes() != given.sizes()) {
      return InvalidInput(name_ + "." + what + ".weight has shape " + ShapeString(given.sizes()) +
                          " but the base layer needs " + ShapeString(have.sizes()));
    }
  }
  torch::NoGradGuard no_grad;
  it->second.a.copy_(a);
  it->second.b.copy_(b);
  return Status::Ok();
}

torch::Tensor LoraLinear::Delta(const LoraWeights& weights) const {
  torch::Tensor delta = torch::matmul(weights.b, weights.a) * weights.scaling;  // [out, in]
  return conv1d_ ? delta.t() : delta;
}

Status LoraLinear::Merge(const std::string& name) {
  const LoraWeights* weights = Adapter(name);
  if (weights == nullptr) return Status::Ok();  // the adapter does not target this layer
  if (merged_) return Conflict("layer " + name_ + " already has adapter '" + *merged_ + "' merged");
  if (IsQ8(weight_)) {
    return InvalidInput("layer " + name_ +
                        " is kept in q8_0 (--base-dtype): an adapter cannot be merged into it");
  }
  torch::NoGradGuard no_grad;
  unmerged_weight_ = weight_.clone();
  weight_.add_(Delta(*weights));
  merged_ = name;
  return Status::Ok();
}

void LoraLinear::Unmerge() {
  if (!merged_) return;
  torch::NoGradGuard no_grad;
  weight_.copy_(unmerged_weight_);
  unmerged_weight_ = torch::Tensor();
  merged_.reset();
}

}  // namespace graft::models
