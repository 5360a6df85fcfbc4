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
#include "trainer/provenance.h"
#include "trainer/trainer.h"

namespace graft::distributed {
class Group;
}

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
  // adapter_config.json's base_model_name_or_path (e.g. a Hugging Face hub id); default: the
  // base directory's name.
  std::optional<std::string> base_name_or_path;
  std::string license = "other";  // the model card's license field (an SPDX id, or "other")
  const std::atomic<bool>* stop = nullptr;
  std::ostream* progress = nullptr;
  bool live = false;
  std::function<void(int64_t step)> after_step;
  // Data-parallel (null: one process): the ranks check at start that they run the same inputs
  // (base, data, config, parent, policy, graft and libtorch versions, resume or not) and stop
  // together otherwise; each trains its share of every step (TrainerOptions::group); only rank 0
  // touches OUT and OUT.partial, needs the key, writes checkpoints and signs the result. Another
  // rank returns its summary with an empty `dir`. Resuming needs OUT.partial visible to every
  // rank (one machine, or a shared file system).
  distributed::Group* group = nullptr;
  // Announces the run before training starts (rank 0 only, once its inputs are checked; the
  // provenance holds them and the run's invocation id): returns what the provenance records of
  // the announcement (TrainingProvenance::announcement; null: not announced). Kept in
  // OUT.partial/run.json, so a resumed run is not announced again. A failure stops every rank
  // before the run starts. Empty: not announced.
  std::function<Result<Json>(const TrainingProvenance& provenance)> announce;

  // Trains in OUT.partial/ (checkpoints in OUT.partial/checkpoints, the result staged in
  // OUT.partial/output), writes the model card (README.md), signs the result (model.sig, which
  // covers the card, and provenance.intoto.jsonl), then renames
  // it to OUT and removes OUT.partial. OUT must not exist; OUT.partial must exist exactly when
  // resuming. A stop request leaves OUT.partial with a checkpoint and no OUT.
  Result<TrainJobResult> Run() const;
};

}  // namespace graft::trainer
