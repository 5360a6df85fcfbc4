#include "models/weight_spec.h"

#include <ATen/CPUGeneratorImpl.h>

namespace graft::models {
namespace {

std::string ShapeString(c10::IntArrayRef shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

}  // namespace

Status CheckWeights(const std::vector<WeightSpec>& specs,
                    const std::map<std::string, torch::Tensor>& weights, std::string_view source) {
  std::map<std::string, const WeightSpec*> expected;
  for (const WeightSpec& spec : specs) expected[spec.name] = &spec;
  for (const auto& [name, spec] : expected) {
    auto it = weights.find(name);
    if (it == weights.end()) {
      return InvalidInput(std::string(source) + ": missing tensor \"" + name + "\" (expected " +
                          ShapeString(spec->shape) + ")");
    }
    if (it->second.sizes() != c10::IntArrayRef(spec->shape)) {
      return InvalidInput(std::string(source) + ": tensor \"" + name + "\" has shape " +
                          ShapeString(it->second.sizes()) + ", expected " +
                          ShapeString(spec->shape));
    }
  }
  for (const auto& [name, tensor] : weights) {
    if (!expected.count(name)) {
      return InvalidInput(std::string(source) + ": unexpected tensor \"" + name + "\" " +
                          ShapeString(tensor.sizes()) + " (not part of this architecture)");
    }
  }
  return Status::Ok();
}

torch::Tensor InitWeight(const WeightSpec& spec, at::Generator& generator) {
  torch::NoGradGuard no_grad;
  switch (spec.init) {
    case WeightSpec::Init::kNormal:
      return at::normal(0.0, spec.std, spec.shape, generator, torch::kFloat);
    case WeightSpec::Init::kZeros:
      return torch::zeros(spec.shape, torch::kFloat);
    case WeightSpec::Init::kOnes:
      break;
  }
  return torch::ones(spec.shape, torch::kFloat);
}

std::map<std::string, torch::Tensor> InitWeights(const std::vector<WeightSpec>& specs,
                                                 uint64_t seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::map<std::string, torch::Tensor> weights;
  for (const WeightSpec& spec : specs) weights[spec.name] = InitWeight(spec, generator);
  return weights;
}

}  // namespace graft::models
