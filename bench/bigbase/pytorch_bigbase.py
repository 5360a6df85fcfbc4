#!/usr/bin/python3
"""PyTorch eager references for bench/bigbase, on the models of bench/train/pytorch_lora.py (plain
torch GPT-2 and Llama, random weights at the given shape, no grad). One JSON line.
  pytorch_bigbase.py --shape JSON --mode score --batch B --seq T [--threads 2]
      forward + log_softmax + gather of every next token (the full [B, T, vocab] logits)
  pytorch_bigbase.py --shape JSON --mode generate --prompt P --new N [--threads 2]
      greedy decoding with a KV cache (torch.cat per step, as HF's eager cache), llama only"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from pytorch_lora import Llama, make_model  # noqa: E402


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def score(model, vocab, batch, seq):
    ids = torch.randint(0, vocab, (batch, seq + 1))
    inputs, targets = ids[:, :-1], ids[:, 1:]

    def run():
        logits = model(inputs)
        return torch.log_softmax(logits, -1).gather(2, targets.unsqueeze(2)).sum().item()

    run()
    reps = 3
    start = time.perf_counter()
    for _ in range(reps):
        run()
    return {"tokens_per_s": batch * seq * reps / (time.perf_counter() - start)}


def generate(model, prompt, new):
    ids = torch.tensor([[(i * 7919) % 256 for i in range(prompt)]])

    def run(count):
        caches = [[] for _ in model.layers]
        hidden = model.hidden(ids, 0, caches)
        token = model.lm_head(hidden[:, -1]).argmax(-1, keepdim=True)
        out = [token.item()]
        for step in range(count - 1):
            hidden = model.hidden(token, prompt + step, caches)
            token = model.lm_head(hidden[:, -1]).argmax(-1, keepdim=True)
            out.append(token.item())
        return out

    run(1)
    start = time.perf_counter()
    run(1)
    prefill = time.perf_counter() - start
    start = time.perf_counter()
    tokens = run(new + 1)
    total = time.perf_counter() - start
    return {"decode_tokens_per_s": new / (total - prefill), "prefill_s": prefill,
            "new_tokens": tokens}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", required=True)
    p.add_argument("--mode", required=True, choices=["score", "generate"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=512)
    p.add_argument("--prompt", type=int, default=32)
    p.add_argument("--new", type=int, default=32)
    a = p.parse_args()
    shape = json.loads(a.shape)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = make_model(shape, "none").eval()
    with torch.no_grad():
        if a.mode == "score":
            out = score(model, shape["vocab"], a.batch, a.seq)
        else:
            if not isinstance(model, Llama):
                sys.exit("generate: llama shapes only")
            out = generate(model, a.prompt, a.new)
    out.update({"mode": "pytorch-" + a.mode, "threads": a.threads, "peak_rss_mib": peak_rss_mib(),
                "torch": torch.__version__})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
