#!/usr/bin/python3
"""Writes a graft Llama base directory (`graft base init --preset llama-1b`: config.json and F32
safetensors shards) as a GGUF v3 file llama.cpp loads, in F32 or Q8_0, for bench/bigbase/run's
comparison with llama.cpp. Written from the GGUF specification (ggml's docs/gguf.md) with numpy
and struct only; one tensor in memory at a time.
  to_gguf.py BASE_DIR OUT.gguf [f32|q8_0]

The tokenizer is a placeholder of the base's vocabulary size (token ids are fed directly: ids
0-255 are byte tokens, 256 is the end-of-text token, the rest plain pieces). As
convert_hf_to_gguf.py does, q_proj and k_proj rows are permuted from HF's rotate-half RoPE
layout to llama.cpp's interleaved pairs, so both compute the same function."""
import json
import os
import struct
import sys

import numpy as np

ALIGN = 32
GGML_F32, GGML_Q8_0 = 0, 8
FILE_TYPE = {"f32": 0, "q8_0": 7}  # llama_ftype: ALL_F32, MOSTLY_Q8_0
U32, I32, F32, STRING, ARRAY = 4, 5, 6, 8, 9


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    out = gguf_string(key) + struct.pack("<I", vtype)
    if vtype == U32:
        return out + struct.pack("<I", value)
    if vtype == F32:
        return out + struct.pack("<f", value)
    if vtype == STRING:
        return out + gguf_string(value)
    etype, items = value
    out += struct.pack("<IQ", etype, len(items))
    if etype == STRING:
        return out + b"".join(gguf_string(s) for s in items)
    return out + np.asarray(items, dtype="<f4" if etype == F32 else "<i4").tobytes()


def read_safetensors(base):
    """name -> (file, offset, shape, dtype) over every shard of the base."""
    tensors = {}
    for name in sorted(os.listdir(base)):
        if not name.endswith(".safetensors"):
            continue
        path = os.path.join(base, name)
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(length))
        for key, info in header.items():
            if key == "__metadata__":
                continue
            if info["dtype"] != "F32":
                sys.exit(f"{path}: {key} is {info['dtype']}; only F32 bases are converted")
            begin, _ = info["data_offsets"]
            tensors[key] = (path, 8 + length + begin, tuple(info["shape"]))
    return tensors


def load(entry):
    path, offset, shape = entry
    return np.memmap(path, dtype="<f4", mode="r", offset=offset, shape=shape)


def permute_rope(w, heads):
    """HF's rotate-half rows per head -> llama.cpp's interleaved pairs (convert_hf_to_gguf.py)."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def q8_0(w):
    """ggml's quantize_row_q8_0_ref: blocks of 32 weights along a row, one fp16 scale each."""
    blocks = w.reshape(-1, 32).astype(np.float32)
    amax = np.abs(blocks).max(axis=1)
    d = amax / 127.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    x = blocks * inv[:, None]
    q = np.trunc(x + np.copysign(0.5, x)).astype(np.int8)  # roundf: ties away from zero
    out = np.empty(blocks.shape[0], dtype=[("d", "<f2"), ("qs", "i1", 32)])
    out["d"] = d.astype(np.float16)
    out["qs"] = q
    return out.tobytes()


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    base, out_path = sys.argv[1], sys.argv[2]
    kind = sys.argv[3] if len(sys.argv) == 4 else "f32"
    if kind not in FILE_TYPE:
        sys.exit(f"unknown type {kind}: f32 or q8_0")
    with open(os.path.join(base, "config.json")) as f:
        c = json.load(f)
    if c.get("model_type") != "llama":
        sys.exit(f"{base}: model_type {c.get('model_type')}; only llama bases are converted")
    heads, kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
    d, layers, vocab = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"]
    src = read_safetensors(base)

    # (gguf name, HF name, transform) in llama.cpp's order.
    plan = [("token_embd.weight", "model.embed_tokens.weight", None)]
    for i in range(layers):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        plan += [
            (b + "attn_norm.weight", p + "input_layernorm.weight", None),
            (b + "attn_q.weight", p + "self_attn.q_proj.weight", heads),
            (b + "attn_k.weight", p + "self_attn.k_proj.weight", kv_heads),
            (b + "attn_v.weight", p + "self_attn.v_proj.weight", None),
            (b + "attn_output.weight", p + "self_attn.o_proj.weight", None),
            (b + "ffn_norm.weight", p + "post_attention_layernorm.weight", None),
            (b + "ffn_gate.weight", p + "mlp.gate_proj.weight", None),
            (b + "ffn_up.weight", p + "mlp.up_proj.weight", None),
            (b + "ffn_down.weight", p + "mlp.down_proj.weight", None),
        ]
    plan.append(("output_norm.weight", "model.norm.weight", None))
    lm_head = "lm_head.weight" if "lm_head.weight" in src else "model.embed_tokens.weight"
    plan.append(("output.weight", lm_head, None))

    tokens = [f"<0x{i:02X}>" for i in range(256)] + ["</s>"] + [f"t{i}" for i in range(257, vocab)]
    types = [6] * 256 + [3] + [1] * (vocab - 257)  # byte, control, normal
    meta = [
        kv("general.architecture", STRING, "llama"),
        kv("general.name", STRING, os.path.basename(os.path.normpath(base))),
        kv("general.file_type", U32, FILE_TYPE[kind]),
        kv("general.alignment", U32, ALIGN),
        kv("llama.context_length", U32, c.get("max_position_embeddings", 2048)),
        kv("llama.embedding_length", U32, d),
        kv("llama.block_count", U32, layers),
        kv("llama.feed_forward_length", U32, c["intermediate_size"]),
        kv("llama.rope.dimension_count", U32, d // heads),
        kv("llama.attention.head_count", U32, heads),
        kv("llama.attention.head_count_kv", U32, kv_heads),
        kv("llama.attention.layer_norm_rms_epsilon", F32, c["rms_norm_eps"]),
        kv("llama.rope.freq_base", F32, c.get("rope_theta", 10000.0)),
        kv("llama.vocab_size", U32, vocab),
        kv("tokenizer.ggml.model", STRING, "llama"),
        kv("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
        kv("tokenizer.ggml.scores", ARRAY, (F32, [0.0] * vocab)),
        kv("tokenizer.ggml.token_type", ARRAY, (I32, types)),
        kv("tokenizer.ggml.bos_token_id", U32, 256),
        kv("tokenizer.ggml.eos_token_id", U32, 256),
        kv("tokenizer.ggml.unknown_token_id", U32, 0),
    ]

    infos, offset, sizes = [], 0, []
    for name, hf, _ in plan:
        shape = src[hf][2]
        quantized = kind == "q8_0" and len(shape) == 2
        if quantized and shape[-1] % 32:
            sys.exit(f"{hf}: rows of {shape[-1]} are not a multiple of 32")
        n = int(np.prod(shape))
        size = n // 32 * 34 if quantized else n * 4
        ne = list(reversed(shape))  # ggml's ne[0] is the fastest-moving dimension
        infos.append(gguf_string(name) + struct.pack("<I", len(ne)) +
                     struct.pack(f"<{len(ne)}Q", *ne) +
                     struct.pack("<IQ", GGML_Q8_0 if quantized else GGML_F32, offset))
        sizes.append((quantized, size))
        offset += (size + ALIGN - 1) // ALIGN * ALIGN

    with open(out_path, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, len(plan), len(meta)))
        for m in meta + infos:
            f.write(m)
        f.write(b"\0" * (-f.tell() % ALIGN))
        for (name, hf, rope_heads), (quantized, size) in zip(plan, sizes):
            w = load(src[hf])
            if rope_heads:
                w = permute_rope(np.asarray(w), rope_heads)
            data = q8_0(w) if quantized else np.ascontiguousarray(w, dtype="<f4").tobytes()
            assert len(data) == size, name
            f.write(data)
            f.write(b"\0" * (-size % ALIGN))
    print(f"{out_path}: {len(plan)} tensors, {os.path.getsize(out_path) / 2**20:.0f} MiB ({kind})")


if __name__ == "__main__":
    main()
