#!/usr/bin/python3
"""PyTorch eager reference for bench/train: a GPT-2 LM written in plain torch (as transformers'
GPT2LMHeadModel computes it in eager mode, without dropout) with a hand-written PEFT-style LoRA on
c_attn, trained with AdamW and gradient clipping on packed batches; or, for a shape with
"arch": "llama", LlamaForCausalLM in plain torch (RMSNorm, RoPE, grouped-query attention,
SwiGLU) with LoRA on q_proj and v_proj. Prints one JSON line like
graft_train_bench. Usage: pytorch_lora.py --shape JSON [--mode lora|full] [--threads 2]
[--steps 20] [--batch 8] [--seq 256] [--blas-pool]

--blas-pool gives OpenBLAS's own pool --threads and torch's intra-op pool one thread, instead of
torch.set_num_threads(--threads): the split graft used before it ran everything in one pool
(docs/models.md, "Threads"), and PyTorch's faster configuration on 2 cores."""
import argparse
import ctypes
import json
import math
import resource
import time

import torch
import torch.nn.functional as F
from torch import nn


class Conv1D(nn.Module):
    """GPT-2's Conv1D: y = x W + b with W stored [in, out]."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.size(-1)), self.weight).view(
            *x.shape[:-1], -1)


class LoraConv1D(nn.Module):
    """PEFT's LoRA layer over a Conv1D (fan_in_fan_out) or, with `linear`, an nn.Linear:
    base(x) + B(A(dropout(x))) * scaling."""

    def __init__(self, base, r, alpha, dropout, linear=False):
        super().__init__()
        self.base = base
        n_in, n_out = ((base.in_features, base.out_features) if linear else base.weight.shape)
        self.lora_A = nn.Linear(n_in, r, bias=False)
        self.lora_B = nn.Linear(r, n_out, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.dropout = nn.Dropout(dropout)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(self.dropout(x))) * self.scaling


class Block(nn.Module):
    def __init__(self, d, heads, inner, positions):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.c_attn = Conv1D(d, 3 * d)
        self.attn_c_proj = Conv1D(d, d)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.c_fc = Conv1D(d, inner)
        self.mlp_c_proj = Conv1D(inner, d)
        self.register_buffer(
            "causal", torch.tril(torch.ones(positions, positions, dtype=torch.bool)), persistent=False)

    def attention(self, x):
        b, t, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        hd = d // self.heads
        q, k, v = (z.view(b, t, self.heads, hd).transpose(1, 2) for z in (q, k, v))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
        scores = torch.where(self.causal[:t, :t], scores, torch.finfo(scores.dtype).min)
        out = torch.matmul(scores.softmax(dim=-1), v)
        return self.attn_c_proj(out.transpose(1, 2).reshape(b, t, d))

    def forward(self, x):
        x = x + self.attention(self.ln_1(x))
        return x + self.mlp_c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt2(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.wte = nn.Embedding(s["vocab"], s["hidden"])
        self.wpe = nn.Embedding(s["positions"], s["hidden"])
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)
        self.h = nn.ModuleList(
            Block(s["hidden"], s["heads"], s["inner"], s["positions"]) for _ in range(s["layers"]))
        self.ln_f = nn.LayerNorm(s["hidden"], eps=1e-5)

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.size(1)))
        for block in self.h:
            x = block(x)
        return F.linear(self.ln_f(x), self.wte.weight)  # tied LM head


class RmsNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    half = x.size(-1) // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LlamaBlock(nn.Module):
    def __init__(self, s):
        super().__init__()
        d, hd = s["hidden"], s["head_dim"]
        self.heads, self.kv_heads, self.head_dim = s["heads"], s["kv_heads"], hd
        self.input_layernorm = RmsNorm(d, 1e-5)
        self.q_proj = nn.Linear(d, self.heads * hd, bias=False)
        self.k_proj = nn.Linear(d, self.kv_heads * hd, bias=False)
        self.v_proj = nn.Linear(d, self.kv_heads * hd, bias=False)
        self.o_proj = nn.Linear(self.heads * hd, d, bias=False)
        self.post_attention_layernorm = RmsNorm(d, 1e-5)
        self.gate_proj = nn.Linear(d, s["inner"], bias=False)
        self.up_proj = nn.Linear(d, s["inner"], bias=False)
        self.down_proj = nn.Linear(s["inner"], d, bias=False)

    def attention(self, x, cos, sin, cache, causal):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:  # [k, v] of earlier positions, grown here
            if cache:
                k = torch.cat((cache[0], k), dim=2)
                v = torch.cat((cache[1], v), dim=2)
            cache[:] = [k, v]
        repeat = self.heads // self.kv_heads
        k = k.repeat_interleave(repeat, dim=1)
        v = v.repeat_interleave(repeat, dim=1)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        if causal is not None:
            scores = torch.where(causal, scores, torch.finfo(scores.dtype).min)
        out = torch.matmul(scores.softmax(dim=-1), v)
        return self.o_proj(out.transpose(1, 2).reshape(b, t, -1))

    def forward(self, x, cos, sin, cache=None, causal=None):
        x = x + self.attention(self.input_layernorm(x), cos, sin, cache, causal)
        m = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(m)) * self.up_proj(m))


class Llama(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.embed_tokens = nn.Embedding(s["vocab"], s["hidden"])
        nn.init.normal_(self.embed_tokens.weight, std=0.02)
        self.layers = nn.ModuleList(LlamaBlock(s) for _ in range(s["layers"]))
        self.norm = RmsNorm(s["hidden"], 1e-5)
        self.lm_head = nn.Linear(s["hidden"], s["vocab"], bias=False)
        hd = s["head_dim"]
        self.register_buffer("inv_freq", 1.0 / 10000.0 ** (torch.arange(0, hd, 2).float() / hd),
                             persistent=False)

    def hidden(self, ids, past=0, caches=None):
        t = ids.size(1)
        freqs = torch.arange(past, past + t).float()[:, None] * self.inv_freq
        angles = torch.cat((freqs, freqs), dim=-1)
        cos, sin = angles.cos(), angles.sin()
        causal = torch.ones(t, past + t, dtype=torch.bool).tril(past) if t > 1 else None
        x = self.embed_tokens(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, caches[i] if caches is not None else None, causal)
        return self.norm(x)

    def forward(self, ids):
        return self.lm_head(self.hidden(ids))


def make_model(shape, mode):
    """The model of `shape` with every base parameter frozen and LoRA added (mode lora)."""
    model = Llama(shape) if shape.get("arch") == "llama" else Gpt2(shape)
    if mode == "lora":
        for param in model.parameters():
            param.requires_grad_(False)
        if isinstance(model, Llama):
            for layer in model.layers:
                layer.q_proj = LoraConv1D(layer.q_proj, 8, 16, 0.05, linear=True)
                layer.v_proj = LoraConv1D(layer.v_proj, 8, 16, 0.05, linear=True)
        else:
            for block in model.h:
                block.c_attn = LoraConv1D(block.c_attn, r=8, alpha=16, dropout=0.05)
    return model


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", required=True)
    p.add_argument("--mode", default="lora", choices=["lora", "full"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--blas-pool", action="store_true")
    a = p.parse_args()
    shape = json.loads(a.shape)
    if a.blas_pool:
        ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(a.threads)
        torch.set_num_threads(1)
    else:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = make_model(shape, a.mode)
    params = [q for q in model.parameters() if q.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=2e-4, weight_decay=0.0)
    model.train()
    generator = torch.Generator().manual_seed(42)
    tokens = 0
    start = time.perf_counter()
    for step in range(a.steps):
        ids = torch.randint(0, shape["vocab"], (a.batch, a.seq), generator=generator)
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        tokens += ids.numel()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "mode": "pytorch-" + a.mode + ("-blas-pool" if a.blas_pool else ""),
        "threads": a.threads,
        "tokens_per_s": tokens / seconds,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "final_loss": loss.item(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
