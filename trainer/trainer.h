// Trainer: LoRA (or full) fine-tuning of a CausalLM with AdamW, checkpoints, resume and stop.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "trainer/dataset.h"
#include "trainer/train_config.h"

namespace graft::models {
class CausalLM;
}  // namespace graft::models

namespace graft::distributed {
class Group;
}

namespace graft::trainer {

// The name of the adapter a LoRA run trains (PEFT's "default").
inline constexpr char kAdapterName[] = "default";

struct TrainerOptions {
  TrainConfig config;
  bool full = false;  // every base parameter trainable, instead of a LoRA adapter
  // LoRA: start from this PEFT adapter's weights instead of a fresh init (empty: none). Its
  // rank, alpha, rslora and targeted modules must be the config's.
  std::filesystem::path parent;
  // Where checkpoints go (created when needed); empty: no checkpoints, no resume.
  std::filesystem::path checkpoint_dir;
  bool resume = false;  // continue from the latest checkpoint in checkpoint_dir
  // Identifies the run's inputs (base, data, config); a checkpoint of other inputs is refused.
  std::string fingerprint;
  // Set asynchronously (SIGINT/SIGTERM): the run checkpoints after the current step and stops.
  const std::atomic<bool>* stop = nullptr;
  // Progress goes here (null: nowhere); `live` redraws one line (a terminal) instead of printing
  // a line per evaluation.
  std::ostream* progress = nullptr;
  bool live = false;
  // Called after every optimizer step with the number of steps done (tests use it to stop).
  std::function<void(int64_t step)> after_step;
  // Data-parallel training (null: one process). Rank r computes micro-batches r, r + W, ... of
  // each step's grad_accum (W the world size); the trainable parameters' gradients are summed
  // across ranks in one flat buffer before clipping and the optimizer step, so every rank holds
  // the same weights. Only rank 0 writes checkpoints (with every rank's dropout generator state).
  distributed::Group* group = nullptr;
};

// A point of the loss curve: the training loss of a step, and the validation loss when the run
// validated after that step.
struct LossSample {
  int64_t step = 0;
  double train_loss = 0;
  std::optional<double> valid_loss;
};

// How many evenly spaced steps the loss curve samples per run (plus validations and the last).
inline constexpr int64_t kLossCurvePoints = 100;

// The curve as [{"step", "train_loss", "valid_loss"?}], in checkpoints and the provenance; the
// reader throws Json::exception on a malformed curve.
Json LossCurveToJson(const std::vector<LossSample>& curve);
std::vector<LossSample> LossCurveFromJson(const Json& json);

struct TrainSummary {
  int64_t steps = 0;                 // optimizer steps done in total (including before a resume)
  int64_t total_steps = 0;           // steps the run was planned for
  int64_t tokens = 0;                // real (non-padding) tokens trained on
  double train_loss = 0;             // mean loss per target token of the last step
  std::optional<double> valid_loss;  // after the last step (with validation data)
  std::optional<double> valid_bits_per_byte;
  // Every step's loss at most kLossCurvePoints times, every validation, and the last step, in
  // step order; kept across resumes. The provenance records it as byproduct "loss_curve".
  std::vector<LossSample> loss_curve;
  double wall_seconds = 0;   // training time, summed over resumed sessions
  bool interrupted = false;  // stopped early; a checkpoint holds the state
};

// The validation figures of one pass over a dataset.
struct EvalResult {
  double loss = 0;  // mean negative log-likelihood per target token, in nats
  double bits_per_byte = 0;
  int64_t targets = 0;
};

class Trainer {
 public:
  // Prepares a run on `model`: adds the LoRA adapter (or makes the base trainable with `full`),
  // builds the optimizer and, with `resume`, restores the latest checkpoint. Seeds libtorch's
  // generator and sets its thread count from the config.
  static Result<std::unique_ptr<Trainer>> Create(models::CausalLM& model, TrainerOptions options,
                                                 Dataset train, std::optional<Dataset> valid);
  ~Trainer();

  // Trains until the planned number of steps or a stop request.
  Result<TrainSummary> Run();
  // Mean loss and bits per byte over `data` (no dropout, no gradients, file order).
  Result<EvalResult> Evaluate(const Dataset& data);
  // Writes the result: a PEFT adapter directory, or with `full` an HF model directory.
  Status Save(const std::filesystem::path& dir) const;

 private:
  struct State;
  explicit Trainer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace graft::trainer
