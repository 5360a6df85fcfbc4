// Reference GPT-2 and Llama forward passes written out with plain tensor ops (per head, per
// query), as HF's modelling code computes them: what the models' tests compare against, at the
// tiny shapes (unit) and the real ones (slow). Header-only: both test binaries include it.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <string>

#include "models/causal_lm.h"

namespace graft::testing {

using ReferenceWeights = std::map<std::string, torch::Tensor>;

// The model's parameters by name, sharing their storage (the references only read them).
inline ReferenceWeights WeightsOf(const models::CausalLM& model) {
  ReferenceWeights map;
  for (const auto& [name, tensor] : model.Parameters()) map[name] = tensor.detach();
  return map;
}

inline torch::Tensor LayerNorm(const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b, double eps) {
  torch::Tensor mean = x.mean(-1, true);
  torch::Tensor var = (x - mean).pow(2).mean(-1, true);
  return (x - mean) / torch::sqrt(var + eps) * w + b;
}

// Causal attention over one head, one query at a time: q, k, v [T, D].
inline torch::Tensor NaiveAttention(const torch::Tensor& q, const torch::Tensor& k,
                                    const torch::Tensor& v) {
  const int64_t length = q.size(0);
  torch::Tensor out = torch::zeros_like(q);
  for (int64_t i = 0; i < length; ++i) {
    torch::Tensor scores = torch::zeros({i + 1});
    for (int64_t j = 0; j <= i; ++j) {
      scores[j] = (q[i] * k[j]).sum() / std::sqrt(static_cast<double>(q.size(1)));
    }
    torch::Tensor p = torch::exp(scores - scores.max());
    p = p / p.sum();
    for (int64_t j = 0; j <= i; ++j) out[i] += p[j] * v[j];
  }
  return out;
}

// GPT-2 written out from the paper/HF code with plain tensor ops: one sequence [T].
inline torch::Tensor ManualGpt2(const models::CausalLM& model, const torch::Tensor& ids) {
  ReferenceWeights w = WeightsOf(model);
  const formats::ModelConfig& c = model.config();
  const int64_t d = c.hidden_size, hd = c.head_dim, length = ids.size(0);
  const double eps = c.norm_eps;
  torch::Tensor x = torch::zeros({length, d});
  for (int64_t t = 0; t < length; ++t) {
    x[t] = w["transformer.wte.weight"][ids[t].item<int64_t>()] + w["transformer.wpe.weight"][t];
  }
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "transformer.h." + std::to_string(l) + ".";
    torch::Tensor a = LayerNorm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps);
    torch::Tensor qkv = a.mm(w[p + "attn.c_attn.weight"]) + w[p + "attn.c_attn.bias"];
    torch::Tensor attended = torch::zeros({length, d});
    for (int64_t h = 0; h < c.num_heads; ++h) {
      attended.slice(1, h * hd, (h + 1) * hd) = NaiveAttention(
          qkv.slice(1, h * hd, (h + 1) * hd), qkv.slice(1, d + h * hd, d + (h + 1) * hd),
          qkv.slice(1, 2 * d + h * hd, 2 * d + (h + 1) * hd));
    }
    x = x + attended.mm(w[p + "attn.c_proj.weight"]) + w[p + "attn.c_proj.bias"];
    torch::Tensor m = LayerNorm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps);
    torch::Tensor f = m.mm(w[p + "mlp.c_fc.weight"]) + w[p + "mlp.c_fc.bias"];
    torch::Tensor g =
        0.5 * f * (1 + torch::tanh(std::sqrt(2.0 / M_PI) * (f + 0.044715 * f.pow(3))));
    x = x + g.mm(w[p + "mlp.c_proj.weight"]) + w[p + "mlp.c_proj.bias"];
  }
  x = LayerNorm(x, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps);
  return x.mm(w["transformer.wte.weight"].t());
}

// RoPE on one head [T, D] with HF's rotate_half pairing (i, i + D/2), angles in double.
inline torch::Tensor NaiveRope(const torch::Tensor& x, double theta) {
  const int64_t length = x.size(0), dim = x.size(1), half = dim / 2;
  torch::Tensor out = x.clone();
  for (int64_t t = 0; t < length; ++t) {
    for (int64_t i = 0; i < half; ++i) {
      const double angle = t * std::pow(theta, -2.0 * i / dim);
      const float cos = std::cos(angle), sin = std::sin(angle);
      out[t][i] = x[t][i] * cos - x[t][i + half] * sin;
      out[t][i + half] = x[t][i + half] * cos + x[t][i] * sin;
    }
  }
  return out;
}

inline torch::Tensor NaiveLinear(ReferenceWeights& w, const std::string& name,
                                 const torch::Tensor& x) {
  torch::Tensor y = x.mm(w[name + ".weight"].t());
  return w.count(name + ".bias") ? y + w[name + ".bias"] : y;
}

// Llama with per-head loops: RMSNorm, RoPE, kv head h / (H / kvH), SwiGLU. One sequence [T].
inline torch::Tensor NaiveLlama(const models::CausalLM& model, const torch::Tensor& ids) {
  ReferenceWeights w = WeightsOf(model);
  const formats::ModelConfig& c = model.config();
  const int64_t hd = c.head_dim, length = ids.size(0);
  const int64_t group = c.num_heads / c.num_kv_heads;
  auto rms = [&](const torch::Tensor& x, const torch::Tensor& weight) {
    return x / torch::sqrt(x.pow(2).mean(-1, true) + c.norm_eps) * weight;
  };
  torch::Tensor x = w["model.embed_tokens.weight"].index_select(0, ids);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    torch::Tensor a = rms(x, w[p + "input_layernorm.weight"]);
    torch::Tensor q = NaiveLinear(w, p + "self_attn.q_proj", a);
    torch::Tensor k = NaiveLinear(w, p + "self_attn.k_proj", a);
    torch::Tensor v = NaiveLinear(w, p + "self_attn.v_proj", a);
    torch::Tensor attended = torch::zeros({length, c.num_heads * hd});
    for (int64_t h = 0; h < c.num_heads; ++h) {
      const int64_t kvh = h / group;
      attended.slice(1, h * hd, (h + 1) * hd) =
          NaiveAttention(NaiveRope(q.slice(1, h * hd, (h + 1) * hd), c.rope_theta),
                         NaiveRope(k.slice(1, kvh * hd, (kvh + 1) * hd), c.rope_theta),
                         v.slice(1, kvh * hd, (kvh + 1) * hd));
    }
    x = x + NaiveLinear(w, p + "self_attn.o_proj", attended);
    torch::Tensor m = rms(x, w[p + "post_attention_layernorm.weight"]);
    torch::Tensor gate = NaiveLinear(w, p + "mlp.gate_proj", m);
    x = x + NaiveLinear(w, p + "mlp.down_proj",
                        gate * torch::sigmoid(gate) * NaiveLinear(w, p + "mlp.up_proj", m));
  }
  x = rms(x, w["model.norm.weight"]);
  return x.mm((c.tie_word_embeddings ? w["model.embed_tokens.weight"] : w["lm_head.weight"]).t());
}

}  // namespace graft::testing
