// TrainJob: one `graft train` run from files to a signed adapter directory, resumable.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include "core/safetensors.h"
#include "core/status.h"
#include "trainer/trainer.h"

namespace graft::trainer {

struct TrainJobResult {
  TrainSummary summary;
  std::filesystem::path dir;          // the output directory (empty when interrupted)
  std::string root_digest;            // its root digest, hex (empty when interrupted)
  std::filesystem::path partial_dir;  // OUT.partial: checkpoints while unfinished
};

struct TrainJob {
  std::filesystem::path base_dir;
  std::filesystem::path train_data;
  std::optional<std::filesystem::path> valid_data;
  std::filesystem::path config_path;
  std::filesystem::path out_dir;
  std::filesystem::path key_path;
  bool full = false;
  bool resume = false;
  DType base_dtype = DType::kF32;  // how the base's weights are kept (CausalLM::Load)
  // A PEFT adapter to continue training (LoRA only): same base, same LoRA shape. Its root digest
  // is recorded as the "parent" dependency in the provenance.
  std::optional<std::filesystem::path> parent_dir;
  std::optional<std::string> policy_digest;  // sha256 hex of the policy trained under
  const std::atomic<bool>* stop = nullptr;
  std::ostream* progress = nullptr;
  bool live = false;
  std::function<void(int64_t step)> after_step;

  // Trains in OUT.partial/ (checkpoints in OUT.partial/checkpoints, the result staged in
  // OUT.partial/output), signs the result (model.sig and provenance.intoto.jsonl), then renames
  // it to OUT and removes OUT.partial. OUT must not exist; OUT.partial must exist exactly when
  // resuming. A stop request leaves OUT.partial with a checkpoint and no OUT.
  Result<TrainJobResult> Run() const;
};

}  // namespace graft::trainer
