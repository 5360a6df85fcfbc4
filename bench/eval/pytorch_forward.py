#!/usr/bin/python3
"""PyTorch eager reference for bench/eval: tokens/s of the same GPT-2 shape (the plain-torch
GPT-2 of bench/train/pytorch_lora.py) under torch.no_grad, F32, on random token ids.
--mode forward: the forward pass only (logits [batch, seq, vocab]);
--mode score: the forward pass and each position's log-probability of the next token, summed per
row (log_softmax + gather), what an evaluator computes for loglikelihood_rolling.
Prints one JSON line. Usage: pytorch_forward.py --shape JSON [--mode forward|score]
[--threads 2] [--batch 8] [--seq 256]"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from pytorch_lora import Gpt2  # noqa: E402

STEPS = 10  # timed passes after one warm-up, as graft_eval_bench


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", required=True)
    p.add_argument("--mode", default="forward", choices=["forward", "score"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=256)
    a = p.parse_args()
    shape = json.loads(a.shape)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = Gpt2(shape).eval()
    ids = torch.randint(0, shape["vocab"], (a.batch, a.seq))
    targets = torch.randint(0, shape["vocab"], (a.batch, a.seq))

    def step():
        logits = model(ids)
        if a.mode == "score":
            logits.log_softmax(-1).gather(2, targets.unsqueeze(2)).squeeze(2).double().sum(1)

    with torch.no_grad():
        step()
        start = time.perf_counter()
        for _ in range(STEPS):
            step()
        seconds = time.perf_counter() - start
    print(json.dumps({"bench": a.mode, "impl": "pytorch-eager", "threads": a.threads,
                      "batch": a.batch, "seq": a.seq,
                      "tokens_per_s": round(STEPS * a.batch * a.seq / seconds, 1),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
