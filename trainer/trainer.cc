#include "trainer/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <mutex>
#include <sstream>

#include "core/encoding.h"
#include "core/file_util.h"
#include "core/json.h"
#include "distributed/group.h"
#include "models/causal_lm.h"
#include "models/lora_adapter_set.h"
#include "models/peft_io.h"
#include "models/torch_safetensors.h"
#include "trainer/lr_schedule.h"

namespace graft::trainer {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kLatestFile[] = "latest";
constexpr char kWeightsFile[] = "trainable.safetensors";
constexpr char kOptimizerFile[] = "optimizer.pt";
constexpr char kStateFile[] = "state.json";
constexpr char kParent[] = "parent";  // the parent adapter's name while its weights are copied

torch::Tensor ToTensor(const std::vector<int64_t>& values, const Batch& batch) {
  return torch::tensor(values, torch::kInt64).reshape({batch.rows, batch.cols});
}

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds);
  std::ostringstream out;
  if (s >= 3600) out << s / 3600 << "h";
  if (s >= 60) out << std::setw(s >= 3600 ? 2 : 1) << std::setfill('0') << (s / 60) % 60 << "m";
  out << std::setw(s >= 60 ? 2 : 1) << std::setfill('0') << s % 60 << "s";
  return out.str();
}

// The default CPU generator's state (dropout draws from it).
torch::Tensor GetRngState() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void SetRngState(const torch::Tensor& state) {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

// Sets adapter kAdapterName to the weights of the PEFT adapter in `dir`, which must have its
// rank, alpha, rslora setting and targeted modules. The model's adapters are as before on return.
Status StartFromParent(models::CausalLM& model, const fs::path& dir) {
  models::LoraAdapterSet& adapters = model.adapters();
  GRAFT_ASSIGN_OR_RETURN(models::LoadedAdapter parent,
                         models::LoadPeftAdapter(model, dir, kParent));
  struct RemoveParent {
    models::LoraAdapterSet& adapters;
    ~RemoveParent() { (void)adapters.Remove(kParent); }
  } remove_parent{adapters};
  GRAFT_ASSIGN_OR_RETURN(formats::LoraConfig child, adapters.Config(kAdapterName));
  const std::string where = "--parent " + dir.string() + ": ";
  auto mismatch = [&](const std::string& key, auto parent_value, auto child_value) {
    std::ostringstream message;
    message << where << "its " << key << " is " << parent_value << ", the training config's is "
            << child_value << " (continuing an adapter keeps its LoRA shape)";
    return InvalidInput(message.str());
  };
  if (parent.config.r != child.r) return mismatch("r", parent.config.r, child.r);
  if (parent.config.lora_alpha != child.lora_alpha) {
    return mismatch("lora_alpha", parent.config.lora_alpha, child.lora_alpha);
  }
  if (parent.config.use_rslora != child.use_rslora) {
    return mismatch("use_rslora", parent.config.use_rslora, child.use_rslora);
  }
  GRAFT_ASSIGN_OR_RETURN(models::NamedTensors parent_weights, adapters.Parameters(kParent));
  GRAFT_ASSIGN_OR_RETURN(models::NamedTensors child_weights, adapters.Parameters(kAdapterName));
  const std::map<std::string, torch::Tensor> values(parent_weights.begin(), parent_weights.end());
  const std::map<std::string, torch::Tensor> wanted(child_weights.begin(), child_weights.end());
  for (const auto& [name, tensor] : wanted) {
    if (!values.count(name)) {
      return InvalidInput(where + "it has no " + name +
                          ", which the training config's target_modules select");
    }
  }
  for (const auto& [name, tensor] : values) {
    if (!wanted.count(name)) {
      return InvalidInput(where + "it has " + name +
                          ", which the training config's target_modules do not select");
    }
  }
  return adapters.SetWeights(kAdapterName, values);
}

}  // namespace

Json LossCurveToJson(const std::vector<LossSample>& curve) {
  Json out = Json::array();
  for (const LossSample& sample : curve) {
    Json point = {{"step", sample.step}, {"train_loss", sample.train_loss}};
    if (sample.valid_loss) point["valid_loss"] = *sample.valid_loss;
    out.push_back(std::move(point));
  }
  return out;
}

std::vector<LossSample> LossCurveFromJson(const Json& json) {
  std::vector<LossSample> curve;
  for (const Json& point : json) {
    LossSample sample{point.at("step").get<int64_t>(), point.at("train_loss").get<double>(), {}};
    if (point.contains("valid_loss")) sample.valid_loss = point["valid_loss"].get<double>();
    curve.push_back(sample);
  }
  return curve;
}

struct Trainer::State {
  models::CausalLM& model;
  TrainerOptions options;
  Dataset train;
  std::optional<Dataset> valid;
  models::NamedTensors params;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  int64_t batches_per_epoch = 0;
  int64_t total_steps = 0;
  TrainSummary summary;
  // The batches of the epoch in use (they are recomputed from seed and epoch).
  int64_t cached_epoch = -1;
  std::vector<Batch> epoch_batches;
  // Data-parallel: every rank saw a stop request of this step's all-reduce (they stop together).
  bool stop_agreed = false;

  State(models::CausalLM& m, TrainerOptions o, Dataset t, std::optional<Dataset> v)
      : model(m), options(std::move(o)), train(std::move(t)), valid(std::move(v)) {}

  distributed::Group* group() const { return options.group; }
  int Rank() const { return group() ? group()->rank() : 0; }
  int World() const { return group() ? group()->world_size() : 1; }
  bool Leader() const { return Rank() == 0; }
  bool StopRequested() const { return options.stop != nullptr && options.stop->load(); }

  // Sums the trainable parameters' gradients across ranks through one flat float32 buffer
  // (a rank without a micro-batch in the step contributes zeros), and the step's loss and stop
  // requests in a second, float64 one.
  Status AllReduceStep(double& loss_sum) {
    std::vector<torch::Tensor> pieces;
    pieces.reserve(params.size());
    for (const auto& [name, param] : params) {
      const torch::Tensor& grad = param.grad();
      pieces.push_back(grad.defined() ? grad.reshape({-1}) : torch::zeros({param.numel()}));
    }
    torch::Tensor flat = torch::cat(pieces);
    GRAFT_RETURN_IF_ERROR(group()->AllReduceSum(flat));
    torch::NoGradGuard no_grad;
    int64_t offset = 0;
    for (auto& [name, param] : params) {
      torch::Tensor summed = flat.narrow(0, offset, param.numel()).view(param.sizes());
      if (param.grad().defined()) {
        param.mutable_grad().copy_(summed);
      } else {
        param.mutable_grad() = summed.clone();
      }
      offset += param.numel();
    }
    torch::Tensor scalars = torch::tensor({loss_sum, StopRequested() ? 1.0 : 0.0}, torch::kFloat64);
    GRAFT_RETURN_IF_ERROR(group()->AllReduceSum(scalars));
    loss_sum = scalars[0].item<double>();
    stop_agreed = scalars[1].item<double>() > 0;
    return Status::Ok();
  }

  BatchOptions Batching() const {
    const TrainConfig& c = options.config;
    return {.batch_size = c.batch_size, .max_seq_len = c.max_seq_len, .packing = c.packing};
  }

  const Batch& MicroBatch(int64_t index) {
    const int64_t epoch = index / batches_per_epoch;
    if (epoch != cached_epoch) {
      epoch_batches =
          train.Batches(Batching(), true, options.config.seed, static_cast<uint64_t>(epoch));
      cached_epoch = epoch;
    }
    return epoch_batches[static_cast<size_t>(index % batches_per_epoch)];
  }

  // Summed negative log-likelihood (nats) of the batch's targets.
  Result<torch::Tensor> SumNll(const Batch& batch) {
    // Position t predicts label t + 1; the last position of each row predicts nothing.
    std::vector<int64_t> next(batch.labels.size(), kIgnoreLabel);
    for (int64_t row = 0; row < batch.rows; ++row) {
      const auto begin = batch.labels.begin() + row * batch.cols;
      std::copy(begin + 1, begin + batch.cols, next.begin() + row * batch.cols);
    }
    // The LM head goes a chunk of positions at a time: the logits are never held in full.
    GRAFT_ASSIGN_OR_RETURN(
        torch::Tensor log_probs,
        model.TargetLogProbs(ToTensor(batch.input_ids, batch),
                             ToTensor(batch.attention_mask, batch),
                             torch::tensor(next, torch::kInt64).view({batch.rows, batch.cols})));
    return -log_probs.sum();
  }

  // One optimizer step over grad_accum micro-batches; returns the mean loss per target token.
  Result<double> Step(int64_t step, const LrSchedule& schedule) {
    const TrainConfig& c = options.config;
    const double lr = schedule.At(step);
    for (auto& group : optimizer->param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    }
    optimizer->zero_grad();
    int64_t targets = 0;
    for (int64_t i = 0; i < c.grad_accum; ++i) {
      targets += MicroBatch(step * c.grad_accum + i).targets;
    }
    double loss_sum = 0;
    for (int64_t i = 0; i < c.grad_accum; ++i) {
      const Batch& batch = MicroBatch(step * c.grad_accum + i);
      summary.tokens += batch.tokens;
      if (batch.targets == 0 || i % World() != Rank()) continue;
      GRAFT_ASSIGN_OR_RETURN(torch::Tensor nll, SumNll(batch));
      (nll / static_cast<double>(targets)).backward();
      loss_sum += nll.item<double>();
    }
    if (group()) GRAFT_RETURN_IF_ERROR(AllReduceStep(loss_sum));
    if (c.grad_clip > 0) {
      std::vector<torch::Tensor> tensors;
      for (const auto& [name, tensor] : params) tensors.push_back(tensor);
      torch::nn::utils::clip_grad_norm_(tensors, c.grad_clip);
    }
    optimizer->step();
    return targets > 0 ? loss_sum / static_cast<double>(targets) : 0.0;
  }

  // Checkpoints: DIR/step-N/{trainable.safetensors, optimizer.pt, state.json}, DIR/latest.
  // Data-parallel: every rank takes part (its dropout generator's state is gathered); rank 0
  // writes.
  Status SaveCheckpoint() {
    torch::Tensor rng = GetRngState().contiguous();
    const std::string rng_b64 =
        Base64Encode(std::string_view(static_cast<const char*>(rng.data_ptr()), rng.nbytes()));
    std::vector<std::string> rank_rngs;
    if (group()) {
      GRAFT_ASSIGN_OR_RETURN(rank_rngs, group()->AllGather(rng_b64));
      if (!Leader()) return Status::Ok();
    }
    const fs::path& dir = options.checkpoint_dir;
    const std::string name = "step-" + std::to_string(summary.steps);
    const fs::path tmp = dir / (name + ".tmp");
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    if (ec) return IoError("cannot create " + tmp.string() + ": " + ec.message());
    GRAFT_ASSIGN_OR_RETURN(std::string weights,
                           models::SerializeTorchTensors(params, DType::kF32, {}));
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(tmp / kWeightsFile, weights));
    torch::save(*optimizer, (tmp / kOptimizerFile).string());
    Json state = {
        {"fingerprint", options.fingerprint},
        {"steps", summary.steps},
        {"micro_batches", summary.steps * options.config.grad_accum},
        {"tokens", summary.tokens},
        {"train_loss", summary.train_loss},
        {"wall_seconds", summary.wall_seconds},
        {"loss_curve", LossCurveToJson(summary.loss_curve)},
        {"rng_state", rng_b64},
    };
    if (group()) state["rank_rng_states"] = rank_rngs;
    GRAFT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(state));
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(tmp / kStateFile, text));
    fs::remove_all(dir / name, ec);
    fs::rename(tmp, dir / name, ec);
    if (ec) return IoError("cannot rename " + tmp.string() + ": " + ec.message());
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(dir / kLatestFile, name + "\n"));
    // Older checkpoints are superseded.
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string other = entry.path().filename().string();
      if (entry.is_directory() && other.rfind("step-", 0) == 0 && other != name) {
        fs::remove_all(entry.path(), ec);
      }
    }
    return Status::Ok();
  }

  Status LoadCheckpoint() {
    const fs::path& dir = options.checkpoint_dir;
    auto latest = ReadFile(dir / kLatestFile, 256);
    if (!latest.ok()) {
      return NotFound("--resume: no checkpoint in " + dir.string() + " (" +
                      latest.status().message() + ")");
    }
    std::string name = *latest;
    while (!name.empty() && name.back() == '\n') name.pop_back();
    GRAFT_RETURN_IF_ERROR(CheckSafeRelativePath(name).WithContext(dir.string() + "/latest"));
    const fs::path checkpoint = dir / name;
    const std::string source = (checkpoint / kStateFile).string();
    GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(checkpoint / kStateFile, 1 << 20));
    GRAFT_ASSIGN_OR_RETURN(Json state, ParseJson(text, source));
    GRAFT_ASSIGN_OR_RETURN(std::string fingerprint, JsonString(state, "fingerprint", source));
    if (fingerprint != options.fingerprint) {
      return Conflict(
          "--resume: the checkpoint in " + checkpoint.string() +
          " was made from other inputs (base, data, config, seed, threads or world size differ)");
    }
    std::string rng_b64;
    try {
      // The fingerprint names the world size, so a data-parallel checkpoint has a state per rank.
      rng_b64 = group()
                    ? state.at("rank_rng_states").at(static_cast<size_t>(Rank())).get<std::string>()
                    : state.at("rng_state").get<std::string>();
      summary.steps = state.at("steps").get<int64_t>();
      summary.tokens = state.at("tokens").get<int64_t>();
      summary.train_loss = state.at("train_loss").get<double>();
      summary.wall_seconds = state.at("wall_seconds").get<double>();
      summary.loss_curve = LossCurveFromJson(state.value("loss_curve", Json::array()));
    } catch (const Json::exception& e) {
      return InvalidInput(source + ": " + e.what());
    }
    if (summary.steps < 0 || summary.steps > total_steps) {
      return InvalidInput(source + ": steps out of range");
    }
    GRAFT_ASSIGN_OR_RETURN(std::string rng_bytes, Base64Decode(rng_b64));
    GRAFT_ASSIGN_OR_RETURN(auto weights, models::ReadSafetensorsAsF32(checkpoint / kWeightsFile));
    if (weights.size() != params.size()) {
      return InvalidInput((checkpoint / kWeightsFile).string() + ": wrong set of tensors");
    }
    {
      torch::NoGradGuard no_grad;
      for (auto& [param_name, param] : params) {
        auto it = weights.find(param_name);
        if (it == weights.end() || !it->second.sizes().equals(param.sizes())) {
          return InvalidInput((checkpoint / kWeightsFile).string() + ": missing or mis-shaped " +
                              param_name);
        }
        param.copy_(it->second);
      }
    }
    torch::load(*optimizer, (checkpoint / kOptimizerFile).string());
    torch::Tensor rng = torch::empty({static_cast<int64_t>(rng_bytes.size())}, torch::kUInt8);
    std::memcpy(rng.data_ptr(), rng_bytes.data(), rng_bytes.size());
    SetRngState(rng);
    return Status::Ok();
  }

  void Report(int64_t step, double lr, double tokens_per_second, double eta_seconds,
              const std::optional<EvalResult>& eval) {
    if (options.progress == nullptr) return;
    std::ostringstream line;
    line << "step " << step << "/" << total_steps << "  loss " << std::fixed << std::setprecision(4)
         << summary.train_loss << "  lr " << std::scientific << std::setprecision(2) << lr
         << std::fixed << std::setprecision(0) << "  " << tokens_per_second << " tok/s  ETA "
         << Duration(eta_seconds);
    if (eval) {
      line << std::setprecision(4) << "  valid_loss " << eval->loss << "  bpb "
           << eval->bits_per_byte;
    }
    std::ostream& out = *options.progress;
    if (options.live) {
      out << "\r\033[K" << line.str();
      if (eval || step == total_steps) out << "\n";
    } else if (eval || step == total_steps) {
      out << line.str() << "\n";
    }
    out.flush();
  }
};

Trainer::Trainer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Trainer::~Trainer() = default;

Result<std::unique_ptr<Trainer>> Trainer::Create(models::CausalLM& model, TrainerOptions options,
                                                 Dataset train, std::optional<Dataset> valid) {
  GRAFT_RETURN_IF_ERROR(options.config.CheckMode(options.full, "training config"));
  auto state =
      std::make_unique<State>(model, std::move(options), std::move(train), std::move(valid));
  const TrainConfig& c = state->options.config;
  try {
    models::SetTorchThreads(static_cast<int>(c.threads));
    model.SetCheckpointing(c.checkpointing);
    // Rank r > 0 draws its dropout masks from seed + r (LoRA's init takes the seed itself, so
    // every rank starts from the same weights).
    torch::manual_seed(c.seed + static_cast<uint64_t>(state->Rank()));
    if (state->options.full) {
      GRAFT_RETURN_IF_ERROR(model.SetBaseTrainable(true));
      state->params = model.Parameters();
    } else {
      GRAFT_RETURN_IF_ERROR(model.adapters().Add(kAdapterName, *c.lora, c.seed).status());
      if (!state->options.parent.empty()) {
        GRAFT_RETURN_IF_ERROR(StartFromParent(model, state->options.parent));
      }
      GRAFT_RETURN_IF_ERROR(model.adapters().SetActive(std::string(kAdapterName)));
      GRAFT_ASSIGN_OR_RETURN(state->params, model.adapters().Parameters(kAdapterName));
    }
    std::vector<torch::Tensor> tensors;
    for (const auto& [name, tensor] : state->params) tensors.push_back(tensor);
    state->optimizer = std::make_unique<torch::optim::AdamW>(
        tensors, torch::optim::AdamWOptions(c.optimizer.lr)
                     .betas({c.optimizer.beta1, c.optimizer.beta2})
                     .eps(c.optimizer.eps)
                     .weight_decay(c.optimizer.weight_decay));
    state->batches_per_epoch =
        static_cast<int64_t>(state->train.Batches(state->Batching(), false, 0, 0).size());
    state->total_steps =
        c.max_steps
            ? *c.max_steps
            : std::max<int64_t>(
                  1, (state->batches_per_epoch * *c.epochs + c.grad_accum - 1) / c.grad_accum);
    state->summary.total_steps = state->total_steps;
    if (state->options.resume) {
      if (state->options.checkpoint_dir.empty())
        return InvalidInput("--resume needs a checkpoint directory");
      GRAFT_RETURN_IF_ERROR(state->LoadCheckpoint());
    }
  } catch (const c10::Error& e) {
    return InternalError(std::string("libtorch: ") + e.what_without_backtrace());
  }
  return std::unique_ptr<Trainer>(new Trainer(std::move(state)));
}

Result<EvalResult> Trainer::Evaluate(const Dataset& data) {
  State& s = *state_;
  // Evaluation runs without dropout; the caller's mode is restored on every path.
  struct ModeGuard {
    models::CausalLM& model;
    bool training;
    ~ModeGuard() { model.SetTraining(training); }
  } guard{s.model, s.model.training()};
  s.model.SetTraining(false);
  torch::NoGradGuard no_grad;
  double nll = 0;
  EvalResult result;
  try {
    // Data-parallel: rank r scores batches r, r + W, ...; the sums are added across ranks.
    const std::vector<Batch> batches = data.Batches(s.Batching(), false, 0, 0);
    for (size_t i = 0; i < batches.size(); ++i) {
      const Batch& batch = batches[i];
      if (batch.targets == 0 || static_cast<int>(i % static_cast<size_t>(s.World())) != s.Rank())
        continue;
      GRAFT_ASSIGN_OR_RETURN(torch::Tensor sum, s.SumNll(batch));
      nll += sum.item<double>();
      result.targets += batch.targets;
    }
    if (s.group()) {
      torch::Tensor sums =
          torch::tensor({nll, static_cast<double>(result.targets)}, torch::kFloat64);
      GRAFT_RETURN_IF_ERROR(s.group()->AllReduceSum(sums));
      nll = sums[0].item<double>();
      result.targets = static_cast<int64_t>(sums[1].item<double>());
    }
  } catch (const c10::Error& e) {
    return InternalError(std::string("libtorch: ") + e.what_without_backtrace());
  }
  result.loss = result.targets > 0 ? nll / static_cast<double>(result.targets) : 0;
  const int64_t bytes = data.trained_bytes();
  result.bits_per_byte = bytes > 0 ? nll / std::log(2.0) / static_cast<double>(bytes) : 0;
  return result;
}

Result<TrainSummary> Trainer::Run() {
  State& s = *state_;
  const TrainConfig& c = s.options.config;
  const LrSchedule schedule(c.optimizer.lr, c.schedule, s.total_steps);
  const auto started = Clock::now();
  const double wall_before = s.summary.wall_seconds;
  const int64_t first_step = s.summary.steps;
  const int64_t tokens_before = s.summary.tokens;
  s.model.SetTraining(true);
  try {
    while (s.summary.steps < s.total_steps) {
      // Data-parallel ranks stop together, after the step whose all-reduce carried the request.
      if (s.group() ? s.stop_agreed : s.StopRequested()) {
        s.summary.interrupted = true;
        break;
      }
      const int64_t step = s.summary.steps;
      GRAFT_ASSIGN_OR_RETURN(s.summary.train_loss, s.Step(step, schedule));
      s.summary.steps = step + 1;
      const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
      s.summary.wall_seconds = wall_before + elapsed;

      std::optional<EvalResult> eval;
      const bool last = s.summary.steps == s.total_steps;
      if (s.valid && (last || (c.eval_every > 0 && s.summary.steps % c.eval_every == 0))) {
        GRAFT_ASSIGN_OR_RETURN(eval, Evaluate(*s.valid));
        s.summary.valid_loss = eval->loss;
        s.summary.valid_bits_per_byte = eval->bits_per_byte;
      }
      const int64_t stride = std::max<int64_t>(1, s.total_steps / kLossCurvePoints);
      if (last || eval || s.summary.steps % stride == 0) {
        s.summary.loss_curve.push_back({s.summary.steps, s.summary.train_loss,
                                        eval ? std::optional<double>(eval->loss) : std::nullopt});
      }
      const double done = static_cast<double>(s.summary.steps - first_step);
      s.Report(s.summary.steps, schedule.At(step),
               static_cast<double>(s.summary.tokens - tokens_before) / std::max(elapsed, 1e-9),
               elapsed / done * static_cast<double>(s.total_steps - s.summary.steps), eval);
      if (!s.options.checkpoint_dir.empty() && c.checkpoint_every > 0 && !last &&
          s.summary.steps % c.checkpoint_every == 0) {
        GRAFT_RETURN_IF_ERROR(s.SaveCheckpoint());
      }
      if (s.options.after_step) s.options.after_step(s.summary.steps);
    }
    if (s.summary.interrupted && !s.options.checkpoint_dir.empty()) {
      GRAFT_RETURN_IF_ERROR(s.SaveCheckpoint());
    }
  } catch (const c10::Error& e) {
    return InternalError(std::string("libtorch: ") + e.what_without_backtrace());
  }
  s.model.SetTraining(false);
  return s.summary;
}

Status Trainer::Save(const fs::path& dir) const {
  try {
    if (state_->options.full) return state_->model.SaveHf(dir);
    return models::SavePeftAdapter(state_->model, kAdapterName, dir);
  } catch (const c10::Error& e) {
    return InternalError(std::string("libtorch: ") + e.what_without_backtrace());
  }
}

}  // namespace graft::trainer
