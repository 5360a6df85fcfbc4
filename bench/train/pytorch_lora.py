#!/usr/bin/python3
"""PyTorch eager reference for bench/train: a GPT-2 LM written in plain torch (as transformers'
GPT2LMHeadModel computes it in eager mode, without dropout) with a hand-written PEFT-style LoRA on
c_attn, trained with AdamW and gradient clipping on packed batches. Prints one JSON line like
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
    """PEFT's LoRA layer over a Conv1D (fan_in_fan_out): base(x) + B(A(dropout(x))) * scaling."""

    def __init__(self, base, r, alpha, dropout):
        super().__init__()
        self.base = base
        n_in, n_out = base.weight.shape
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
    model = Gpt2(shape)
    if a.mode == "lora":
        for param in model.parameters():
            param.requires_grad_(False)
        for block in model.h:
            block.c_attn = LoraConv1D(block.c_attn, r=8, alpha=16, dropout=0.05)
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
