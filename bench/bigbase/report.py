#!/usr/bin/python3
"""Prints bench/bigbase/run's JSON lines as a table of figures and graft / PyTorch ratios."""
import json
import statistics
import sys

# A run repeated (ROUNDS) is reported by the median of each numeric field.
runs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs.setdefault(r["run"], []).append(r)
rows = {}
for name, repeats in runs.items():
    row = dict(repeats[-1])
    for key, value in row.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            row[key] = statistics.median(r[key] for r in repeats if key in r)
    row["repeats"] = len(repeats)
    rows[name] = row


def get(run, key):
    return rows.get(run, {}).get(key)


def ratio(a, b):
    return f"x{a / b:.2f}" if a and b else "—"


loads = [r["load"] for repeats in runs.values() for r in repeats if "load" in r]
if loads:
    print(f"load average at the runs' starts: {min(loads):.1f}-{max(loads):.1f}")
bandwidth = get("bandwidth", "bytes_per_s")
if bandwidth:
    print(f"memory read bandwidth (sum of a 1 GiB F32 buffer): {bandwidth / 1e9:.1f} GB/s")
print("| run | tokens/s | peak RSS (MiB) | other |")
print("|---|---|---|---|")
for name, r in rows.items():
    if name == "bandwidth":
        continue
    tps = r.get("tokens_per_s") or r.get("decode_tokens_per_s")
    if name.startswith("llamacpp") or (name.startswith(("llama1b-generate", "llama1b-prompt"))
                                       and "prefill_s" in r):
        r["prompt_tokens_per_s"] = r.get("prompt_tokens_per_s") or r["prompt"] / r["prefill_s"]
    other = {k: r[k] for k in ("load_s", "first_forward_s", "weight_bytes", "prefill_s",
                                "seconds", "final_loss", "flops_per_s",
                                "prompt_tokens_per_s") if k in r}
    print(f"| {name} | {tps:.3g} | {r.get('peak_rss_mib', 0):.0f} | {other} |" if tps else
          f"| {name} | — | {r.get('peak_rss_mib', 0):.0f} | {other} |")

print()
for what, g, t in (("gpt2-124m LoRA training", "gpt2-train", "gpt2-train-torch"),
                   ("gpt2-124m scoring", "gpt2-score", "gpt2-score-torch"),
                   ("llama-1b scoring", "llama1b-score", "llama1b-score-torch"),
                   ("llama-1b LoRA training", "llama1b-train", "llama1b-train-torch"),
                   ("under a 2-thread busy job: gpt2-124m LoRA training", "contention-train",
                    "contention-train-torch")):
    if g == "gpt2-train" and g in rows and get("gpt2-matmul", "flops_per_s"):
        print(f"{what}: graft {get(g, 'flops_per_s') / 1e9:.1f} GFLOP/s = "
              f"{get(g, 'flops_per_s') / get('gpt2-matmul', 'flops_per_s'):.0%} of sgemm at the "
              f"MLP's shape ({get('gpt2-matmul', 'flops_per_s') / 1e9:.1f} GFLOP/s)")
    if g in rows and t in rows:
        print(f"{what}: graft / PyTorch eager tokens/s "
              f"{ratio(get(g, 'tokens_per_s'), get(t, 'tokens_per_s'))}, peak RSS "
              f"{ratio(get(g, 'peak_rss_mib'), get(t, 'peak_rss_mib'))}")
if "gpt2-train" in rows and "gpt2-matmul" in rows:
    print(f"gpt2-124m LoRA training: {get('gpt2-train', 'flops_per_s') / 1e9:.1f} GFLOP/s, "
          f"{ratio(get('gpt2-train', 'flops_per_s'), get('gpt2-matmul', 'flops_per_s'))} of a plain "
          f"matmul's {get('gpt2-matmul', 'flops_per_s') / 1e9:.1f}")
for g in ("llama1b-generate", "llama1b-generate-bf16"):
    if g in rows and "llama1b-generate-torch" in rows:
        tps = get(g, "decode_tokens_per_s")
        line = (f"{g}: {tps:.2f} tokens/s, "
                f"{ratio(tps, get('llama1b-generate-torch', 'decode_tokens_per_s'))} PyTorch eager")
        if bandwidth:
            weights = get(g, "weight_bytes")
            if weights:
                line += f", {tps * weights / bandwidth:.0%} of the bandwidth limit"
        print(line)
for g in ("llama1b-load", "llama1b-load-bf16", "llama1b-load-q8_0"):
    if g in rows:
        weights = get(g, "weight_bytes") / 2**20
        loading = get(g, "load_s") + get(g, "first_forward_s") - get(g, "second_forward_s")
        read = get("llama1b-read", "seconds")
        print(f"{g}: load {get(g, 'load_s'):.2f} s + first forward {get(g, 'first_forward_s'):.2f} s"
              f" - second forward {get(g, 'second_forward_s'):.2f} s = {loading:.2f} s"
              f" ({ratio(loading, read)} reading the files from the page cache: {read or 0:.2f} s);"
              f" peak RSS {get(g, 'peak_rss_mib') / weights:.2f}x the weights ({weights:.0f} MiB)")

# llama.cpp on the same weights (GGUF from to_gguf.py): the same prompt's ids, greedy.
for g, l in (("llama1b-generate", "llamacpp-f32"), ("llama1b-generate-bf16", "llamacpp-q8_0"),
             ("llama1b-generate-q8_0", "llamacpp-q8_0")):
    if g in rows and l in rows:
        same = runs[g][-1].get("new_tokens") == runs[l][-1].get("new_tokens")
        tokens = "identical" if same else "different"
        if g == "llama1b-generate-bf16":
            tokens += " (bf16 and Q8_0 round the weights differently)"
        print(f"{g} against {l}: greedy tokens {tokens}; decode "
              f"{ratio(get(g, 'decode_tokens_per_s'), get(l, 'decode_tokens_per_s'))}, prompt "
              f"{ratio(get(g, 'prompt_tokens_per_s'), get(l, 'prompt_tokens_per_s'))}, peak RSS "
              f"{ratio(get(g, 'peak_rss_mib'), get(l, 'peak_rss_mib'))}")
# graft's q8_0 against its f32 in the same rounds.
for q8, f32, key in (("llama1b-generate-q8_0", "llama1b-generate", "decode_tokens_per_s"),
                     ("llama1b-score-q8_0", "llama1b-score", "tokens_per_s")):
    if q8 in rows and f32 in rows:
        print(f"{q8} / {f32}: {key} {ratio(get(q8, key), get(f32, key))}, peak RSS "
              f"{ratio(get(q8, 'peak_rss_mib'), get(f32, 'peak_rss_mib'))}")
for name in ("llama1b-compare-q8_0", "gpt2-compare-q8_0"):
    if name in rows:
        print(f"{name}: log p per token, q8_0 - f32: max |diff| {get(name, 'max_abs_diff'):.4f}, "
              f"mean |diff| {get(name, 'mean_abs_diff'):.5f} nats (mean log p "
              f"{get(name, 'mean_log_prob'):.4f} against {get(name, 'mean_log_prob_f32'):.4f})")
for name in ("llama1b-generate", "llama1b-generate-bf16", "llama1b-generate-q8_0", "llamacpp-f32",
             "llamacpp-q8_0"):
    if name in rows and bandwidth:
        tps, weights = get(name, "decode_tokens_per_s"), get(name, "weight_bytes")
        print(f"{name}: decode {tps:.2f} tokens/s = {tps * weights / bandwidth:.0%} of the "
              f"bandwidth limit; peak RSS {get(name, 'peak_rss_mib') * 2**20 / weights:.2f}x "
              f"the weight bytes ({weights / 2**20:.0f} MiB)")

# graft's packed GEMM against BLAS in the same binaries (the gemm part).
for what, packed, blas, key in (
        ("gpt2-124m scoring 4 x 512", "gpt2-score-packed", "gpt2-score-blas", "tokens_per_s"),
        ("llama-1b scoring 1 x 512", "llama1b-score-packed", "llama1b-score-blas", "tokens_per_s"),
        ("llama-1b prompt", "llama1b-prompt-packed", "llama1b-prompt-blas", "prompt_tokens_per_s"),
        ("gpt2-124m LoRA training", "gpt2-train-packed", "gpt2-train-blas", "tokens_per_s")):
    if packed in rows and blas in rows:
        print(f"packed GEMM / BLAS, {what}: {get(packed, key):.1f} / {get(blas, key):.1f} tokens/s "
              f"{ratio(get(packed, key), get(blas, key))}")

# The FP32 ceiling (graft_bigbase_bench ceiling): the peak FMA throughput, OpenBLAS sgemm at each
# weight shape (its own pool, as PyTorch; rows split one sgemm per thread, as graft), and the
# tokens/s of a forward that spent its time in the products alone, at the better rate of each.
for name, what, g, t in (
        ("gpt2-ceiling", "gpt2-124m scoring 4 x 512", "gpt2-score", "gpt2-score-torch"),
        ("llama1b-ceiling", "llama-1b scoring 1 x 512", "llama1b-score", "llama1b-score-torch"),
        ("llama1b-ceiling-prompt", "llama-1b prompt", "llama1b-generate", "llamacpp-f32")):
    if name not in rows:
        continue
    c = rows[name]
    print(f"\n{what}: FMA peak of {c['threads']} threads "
          f"{c.get('fma_avx512_flops_per_s', 0) / 1e9:.0f} GFLOP/s AVX-512 "
          f"({c.get('fma_avx512_flops_per_s_one_thread', 0) / 1e9:.0f} on one thread), "
          f"{c.get('fma_avx2_flops_per_s', 0) / 1e9:.0f} AVX2; OpenBLAS core {c.get('blas_core')}; "
          f"{c['flops_per_token'] / 1e9:.3f} GFLOP per token")
    print("| weight | M x K x N | per forward | GFLOP/s: OpenBLAS pool | rows split "
          "| columns split | best, of the FMA peak | graft's packed GEMM: rows split "
          "| columns split | best, of the FMA peak |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    peak = max(c.get("fma_avx512_flops_per_s", 0), c.get("fma_avx2_flops_per_s", 0))
    for i, shape in enumerate(c["shapes"]):
        def rates_of(keys):
            return [statistics.median(r["shapes"][i].get(key, 0) for r in runs[name])
                    for key in keys]
        rates = rates_of(("blas_pool_flops_per_s", "row_split_flops_per_s",
                          "column_split_flops_per_s"))
        packed = rates_of(("packed_row_split_flops_per_s", "packed_column_split_flops_per_s"))
        print(f"| {shape['name']} | {shape['m']} x {shape['k']} x {shape['n']} | "
              f"{shape['per_forward']} | " + " | ".join(f"{rate / 1e9:.1f}" for rate in rates) +
              f" | {max(rates) / peak:.0%} | " +
              " | ".join(f"{rate / 1e9:.1f}" for rate in packed) + f" | {max(packed) / peak:.0%} |")
    bound = c["sgemm_bound_tokens_per_s"]
    print(f"sgemm bound: {bound:.1f} tokens/s ({c['sgemm_bound_flops_per_s'] / 1e9:.1f} GFLOP/s, "
          f"{c['sgemm_bound_flops_per_s'] / peak:.0%} of the FMA peak); FMA bound "
          f"{c.get('fma_bound_tokens_per_s', 0):.1f} tokens/s")
    if c.get("packed_bound_tokens_per_s"):
        print(f"packed bound (graft's own GEMM): {c['packed_bound_tokens_per_s']:.1f} tokens/s "
              f"({c['packed_bound_flops_per_s'] / 1e9:.1f} GFLOP/s, "
              f"{c['packed_bound_flops_per_s'] / peak:.0%} of the FMA peak)")
    if g == "llama1b-generate":
        figures = [(g, get(g, "prompt_tokens_per_s")), (t, get(t, "prompt_tokens_per_s"))]
    else:
        figures = [(g, get(g, "tokens_per_s")), (t, get(t, "tokens_per_s"))]
    for run, tps in figures:
        if tps:
            print(f"{run}: {tps:.1f} tokens/s = {tps / bound:.0%} of the sgemm bound "
                  f"({tps * c['flops_per_token'] / 1e9:.1f} GFLOP/s)")
    if g != "llama1b-generate" and get(t, "tokens_per_s"):
        need = 2 * get(t, "tokens_per_s")
        print(f"2x PyTorch eager = {need:.1f} tokens/s = {need / bound:.0%} of the sgemm bound, "
              f"{need * c['flops_per_token'] / peak:.0%} of the FMA peak")
