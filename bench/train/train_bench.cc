// graft_train_bench: one measurement per process (so peak RSS is the mode's own), printed as JSON.
//   graft_train_bench --mode lora|full|matmul [--preset small] [--threads 2] [--steps 20]
//                     [--batch 8] [--seq 256] [--grad-accum 1] [--base DIR]
//                     [--base-dtype f32|bf16] [--targets c_attn] [--checkpointing false]
// --base loads a base directory (`graft base init --preset ...`) instead of a random `preset`
// gpt2; --targets is the LoRA's target_modules (comma-separated). GEMM=blas in the environment
// sends F32 matrix products to BLAS instead of graft's packed GEMM (models/packed_gemm.h), for A/B
// runs of the same binary; the JSON says which ran ("gemm").
// Started with WORLD_SIZE > 1 (RANK, MASTER_ADDR, MASTER_PORT: bench/train/distributed), each
// process is a data-parallel rank and also reports the all-reduce bytes and time per step.
#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "core/omp_wait_policy.h"
#include "distributed/group.h"
#include "models/causal_lm.h"
#include "models/packed_gemm.h"
#include "models/tokenizer/tokenizer.h"
#include "trainer/trainer.h"

namespace graft::trainer {
namespace {

using Clock = std::chrono::steady_clock;

double PeakRssMib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Matmul FLOPs of one forward pass per token: every projection of each block (2 per weight),
// attention scores and values over a full (masked) row of `seq`, and the LM head.
double ForwardFlopsPerToken(const formats::ModelConfig& c, int64_t seq) {
  const double d = static_cast<double>(c.hidden_size);
  double embeddings = static_cast<double>(c.vocab_size) * d;
  if (!c.tie_word_embeddings) embeddings *= 2;
  if (c.arch == formats::Arch::kGpt2) embeddings += static_cast<double>(c.max_positions) * d;
  const double projections = static_cast<double>(c.NumParameters()) - embeddings;
  const double q = static_cast<double>(c.num_heads * c.head_dim);
  return 2 * projections +
         static_cast<double>(c.num_layers) * 2 * 2 * static_cast<double>(seq) * q +
         2 * d * static_cast<double>(c.vocab_size);
}

// Plain libtorch matmul FLOP/s on the MLP's shape: what the same BLAS reaches without a model,
// with its own pool of `threads` threads as libtorch runs it by default.
double MatmulFlops(const formats::ModelConfig& c, int64_t rows, int threads) {
  models::SetBlasThreads(threads);
  torch::manual_seed(0);
  torch::Tensor a = torch::randn({rows, c.hidden_size});
  torch::Tensor b = torch::randn({c.hidden_size, c.intermediate_size});
  for (int i = 0; i < 3; ++i) torch::mm(a, b);
  const int reps = 20;
  const auto start = Clock::now();
  for (int i = 0; i < reps; ++i) torch::mm(a, b);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return 2.0 * static_cast<double>(rows * c.hidden_size * c.intermediate_size) * reps / seconds;
}

std::string Corpus(int64_t bytes) {
  static const char* kWords[] = {"graft ", "adapter ", "base ",  "model ", "train ", "loss ",
                                 "rank ",  "alpha ",   "token ", "batch ", "step ",  "lora "};
  std::string out;
  uint64_t state = 42;
  std::string line;
  while (static_cast<int64_t>(out.size()) < bytes) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    line += kWords[(state >> 33) % 12];
    if (line.size() > 200) {
      out += "{\"text\": \"" + line + "\"}\n";
      line.clear();
    }
  }
  return out;
}

int Main(int argc, char** argv) {
  std::map<std::string, std::string> args = {
      {"mode", "lora"},      {"preset", "small"},   {"threads", "2"},          {"steps", "20"},
      {"batch", "8"},        {"seq", "256"},        {"grad-accum", "1"},       {"base", ""},
      {"base-dtype", "f32"}, {"targets", "c_attn"}, {"checkpointing", "false"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || !args.count(key.substr(2))) {
      std::cerr << "unknown option " << key << "\n";
      return 2;
    }
    args[key.substr(2)] = argv[i + 1];
  }
  const std::string mode = args["mode"];
  const int64_t threads = std::stoll(args["threads"]), steps = std::stoll(args["steps"]);
  const int64_t batch = std::stoll(args["batch"]), seq = std::stoll(args["seq"]);
  const int64_t grad_accum = std::stoll(args["grad-accum"]);
  auto base_dtype = ParseBaseDType(args["base-dtype"]);
  if (!base_dtype.ok()) {
    std::cerr << base_dtype.status().ToString() << "\n";
    return 2;
  }
  auto model = [&]() -> Result<std::unique_ptr<models::CausalLM>> {
    if (!args["base"].empty()) return models::CausalLM::Load(args["base"], *base_dtype);
    GRAFT_ASSIGN_OR_RETURN(formats::ModelConfig preset,
                           formats::ModelConfig::Preset(formats::Arch::kGpt2, args["preset"]));
    return models::CausalLM::CreateRandom(preset, 1);
  }();
  if (!model.ok()) {
    std::cerr << model.status().ToString() << "\n";
    return 1;
  }
  const formats::ModelConfig* config = &(*model)->config();
  models::SetTorchThreads(static_cast<int>(threads));
  Json out = {{"mode", mode},
              {"threads", threads},
              {"batch", batch},
              {"seq", seq},
              {"base_dtype", args["base-dtype"]},
              {"checkpointing", args["checkpointing"] == "true"},
              {"shape",
               {{"arch", formats::ArchName(config->arch)},
                {"kv_heads", config->num_kv_heads},
                {"head_dim", config->head_dim},
                {"tied", config->tie_word_embeddings},
                {"layers", config->num_layers},
                {"hidden", config->hidden_size},
                {"heads", config->num_heads},
                {"inner", config->intermediate_size},
                {"vocab", config->vocab_size},
                {"positions", config->max_positions}}}};
  if (const char* gemm = std::getenv("GEMM")) models::UsePackedGemm(std::string(gemm) != "blas");
  out["gemm"] = models::PackedGemmAvailable() ? "packed" : "blas";
  if (mode == "matmul") {
    out["flops_per_s"] = MatmulFlops(*config, batch * seq, static_cast<int>(threads));
    out["peak_rss_mib"] = PeakRssMib();
    std::cout << out.dump() << "\n";
    return 0;
  }
  auto encoder = TextEncoder::For((*model)->tokenizer(), config->eos_token_id);
  auto data =
      Dataset::Parse(Corpus(batch * (seq - 1) * steps * grad_accum + 4096), "bench", *encoder);
  if (!data.ok()) {
    std::cerr << data.status().ToString() << "\n";
    return 1;
  }
  TrainerOptions options;
  auto parsed = ParseTrainConfig(
      "lora: {r: 8, lora_alpha: 16, lora_dropout: 0.05, target_modules: [" + args["targets"] +
          "]}\ncheckpointing: " + args["checkpointing"] +
          "\n"

          "schedule: {warmup_steps: 2}\npacking: true\n"
          "batch_size: " +
          std::to_string(batch) + "\nmax_seq_len: " + std::to_string(seq) +
          "\nmax_steps: " + std::to_string(steps) + "\nthreads: " + std::to_string(threads) +
          "\ngrad_accum: " + std::to_string(grad_accum) + "\n",
      "bench.yaml");
  const bool full = mode == "full";
  options.config = *parsed;
  options.full = full;
  auto env = distributed::DistEnv::FromEnvironment();
  std::unique_ptr<distributed::Group> group;
  if (env.ok() && *env) {
    auto joined = distributed::Group::Connect(**env);
    if (!joined.ok()) {
      std::cerr << joined.status().ToString() << "\n";
      return 1;
    }
    group = std::move(*joined);
    options.group = group.get();
  }
  auto trainer =
      Trainer::Create(**model, std::move(options), std::move(data).value(), std::nullopt);
  if (!trainer.ok()) {
    std::cerr << trainer.status().ToString() << "\n";
    return 1;
  }
  auto summary = (*trainer)->Run();
  if (!summary.ok()) {
    std::cerr << summary.status().ToString() << "\n";
    return 1;
  }
  const double tokens_per_s = static_cast<double>(summary->tokens) / summary->wall_seconds;
  // Backward costs one forward for input gradients, plus one more for weight gradients (full).
  const double passes = full ? 3.0 : 2.0;
  out["tokens_per_s"] = tokens_per_s;
  out["flops_per_s"] = passes * ForwardFlopsPerToken(*config, seq) * tokens_per_s;
  out["peak_rss_mib"] = PeakRssMib();
  out["final_loss"] = summary->train_loss;
  out["grad_accum"] = grad_accum;
  out["step_ms"] = summary->wall_seconds / static_cast<double>(steps) * 1e3;
  out["world_size"] = group ? group->world_size() : 1;
  out["rank"] = group ? group->rank() : 0;
  if (group) {
    // In the step, the all-reduce time includes waiting for the slower rank; the same volume
    // all-reduced back to back after a barrier is the communication alone.
    const int64_t bytes_per_step = group->allreduce_bytes() / steps;
    out["allreduce_bytes_per_step"] = bytes_per_step;
    out["allreduce_ms_per_step"] = group->allreduce_seconds() / static_cast<double>(steps) * 1e3;
    torch::Tensor flat = torch::zeros({(bytes_per_step - 16) / 4});
    const double before = group->allreduce_seconds();
    const int reps = 5;
    if (!group->Barrier().ok()) return 1;
    for (int i = 0; i < reps; ++i) {
      if (!group->AllReduceSum(flat).ok()) return 1;
    }
    out["allreduce_alone_ms"] = (group->allreduce_seconds() - before) / reps * 1e3;
  }
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace
}  // namespace graft::trainer

int main(int argc, char** argv) {
  // As graft-model runs (GOMP_SPINCOUNT unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set).
  graft::RestartWithOmpWaitPolicy(argv);
  return graft::trainer::Main(argc, argv);
}
