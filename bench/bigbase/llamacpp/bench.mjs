// llama.cpp (node-llama-cpp's prebuilt CPU libraries) on a GGUF written by bench/bigbase/to_gguf.py,
// with the token ids of graft_bigbase_bench's `generate` mode. One JSON line, as bigbase_bench:
//   node bench.mjs MODEL.gguf THREADS PROMPT NEW
// prompt processing: tokens/s of evaluating the prompt (no new token); decoding: greedy tokens
// after the first (whose time includes the prompt's), tokens/s; peak RSS of this process.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [modelPath, threadsArg, promptArg, newArg] = process.argv.slice(2);
if (!newArg) {
  console.error("usage: node bench.mjs MODEL.gguf THREADS PROMPT NEW");
  process.exit(2);
}
const threads = Number(threadsArg), prompt = Number(promptArg), fresh = Number(newArg);
const ids = Array.from({length: prompt}, (_, i) => (i * 7919) % 256);
const now = () => performance.now() / 1000;

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error,
                              maxThreads: threads});
let start = now();
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const loadS = now() - start;
const context = await model.createContext({contextSize: 1024, batchSize: 512, sequences: 1,
                                           threads: {ideal: threads, min: threads}});
const sequence = context.getSequence();

await sequence.evaluateWithoutGeneratingNewTokens(ids);  // warm-up: pages the weights in
await sequence.clearHistory();
start = now();
await sequence.evaluateWithoutGeneratingNewTokens(ids);
const promptS = now() - start;
await sequence.clearHistory();

const tokens = [];
let first = 0;
start = now();
for await (const token of sequence.evaluate(ids, {temperature: 0})) {
  tokens.push(token);
  if (tokens.length === 1) first = now();
  if (tokens.length === fresh + 1) break;
}
const decodeS = now() - first;
console.log(JSON.stringify({
  mode: "llamacpp-generate", threads, prompt, load_s: loadS,
  prompt_tokens_per_s: prompt / promptS, prefill_s: first - start,
  decode_tokens_per_s: fresh / decodeS, new_tokens: tokens,
  weight_bytes: model.size, peak_rss_mib: process.resourceUsage().maxRSS / 1024,
}));
await context.dispose();
await model.dispose();
