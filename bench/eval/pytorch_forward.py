#!/usr/bin/python3
"""PyTorch eager reference for bench/eval: forward-only tokens/s of the same GPT-2 shape (the
plain-torch GPT-2 of bench/train/pytorch_lora.py) under torch.no_grad. Prints one JSON line.
Usage: pytorch_forward.py --shape JSON [--threads 2] [--batch 8] [--seq 256]"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from pytorch_lora import Gpt2  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=256)
    a = p.parse_args()
    shape = json.loads(a.shape)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = Gpt2(shape).eval()
    ids = torch.randint(0, shape["vocab"], (a.batch, a.seq))
    steps = 10
    with torch.no_grad():
        model(ids)
        start = time.perf_counter()
        for _ in range(steps):
            model(ids)
        seconds = time.perf_counter() - start
    print(json.dumps({"bench": "forward", "impl": "pytorch-eager", "threads": a.threads,
                      "batch": a.batch, "seq": a.seq,
                      "tokens_per_s": steps * a.batch * a.seq / seconds,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
