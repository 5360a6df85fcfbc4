#include "trainer/train_job.h"

#include <dlfcn.h>

#include <torch/version.h>
#include <map>
#include <optional>

#include "core/file_util.h"
#include "core/keys.h"
#include "core/manifest.h"
#include "core/sha256.h"
#include "distributed/group.h"
#include "models/causal_lm.h"
#include "trainer/model_card.h"
#include "trainer/parent_adapter.h"
#include "trainer/provenance.h"

namespace graft::trainer {
namespace fs = std::filesystem;
namespace {

constexpr char kRunFile[] = "run.json";

// The BLAS libtorch computes with: OpenBLAS names its build, otherwise "unknown".
std::string BlasDescription() {
  using ConfigFn = char* (*)();
  auto config = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  return config != nullptr ? std::string(config()) : "unknown";
}

Result<std::string> FileSha256(const fs::path& path) {
  GRAFT_ASSIGN_OR_RETURN(Digest digest, Sha256File(path));
  return DigestHex(digest);
}

// The directory's name without a trailing slash ("out/" → "out").
std::string DirName(const fs::path& dir) {
  fs::path normal = dir.lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();
  return normal.filename().string();
}

fs::path PartialDir(const fs::path& out) {
  fs::path normal = out.lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();
  return normal.parent_path() / (normal.filename().string() + ".partial");
}

// Invocation id, start time and announcement: kept in OUT.partial/run.json so a resumed run
// keeps them. `fresh` holds them for a new run.
Result<Json> StartRun(const fs::path& partial, bool resume, const Json& fresh) {
  if (resume) {
    GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(partial / kRunFile, 1 << 16));
    GRAFT_ASSIGN_OR_RETURN(Json run, ParseJson(text, (partial / kRunFile).string()));
    GRAFT_RETURN_IF_ERROR(JsonString(run, "invocationId", kRunFile).status());
    GRAFT_RETURN_IF_ERROR(JsonString(run, "startedOn", kRunFile).status());
    return run;
  }
  GRAFT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(fresh));
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(partial / kRunFile, text));
  return fresh;
}

// What a rank prepares before the start-up check: its inputs loaded and the provenance begun.
struct Prepared {
  std::optional<PrivateKey> key;  // rank 0 only
  TrainConfig config;
  std::unique_ptr<models::CausalLM> model;
  std::optional<Dataset> train;
  std::optional<Dataset> valid;
  TrainingProvenance provenance;
  Json run = Json::object();  // a new run's invocation id, start time and announcement (rank 0)

  // What the ranks compare at rendezvous.
  std::map<std::string, std::string> Digests(bool full, bool resume) const {
    std::map<std::string, std::string> digests;
    for (const ResolvedDependency& d : provenance.dependencies) digests[d.name] = d.sha256;
    digests["config"] = provenance.config_sha256;
    digests["graft_version"] = provenance.graft_version;
    digests["libtorch_version"] = provenance.libtorch_version;
    digests["mode"] = full ? "full" : "lora";
    digests["resume"] = resume ? "yes" : "no";
    return digests;
  }
};

// The leader's checks of OUT and OUT.partial against --resume.
Status CheckOutputDirs(const TrainJob& job, const fs::path& partial) {
  std::error_code ec;
  if (fs::exists(job.out_dir, ec)) return Conflict(job.out_dir.string() + " already exists");
  if (job.resume && !fs::is_directory(partial, ec)) {
    return NotFound("--resume: " + partial.string() + " does not exist (nothing to resume)");
  }
  if (!job.resume && fs::exists(partial, ec)) {
    return Conflict(partial.string() +
                    " holds an unfinished run: continue it with --resume, or remove it");
  }
  return Status::Ok();
}

// The provenance's record of the run's inputs (base, parent, datasets, policy, config) and of
// what it runs on.
Status RecordInputs(const TrainJob& job, const std::string& base_digest,
                    const std::string& config_sha256, const std::string& base_model, Prepared& p) {
  TrainingProvenance& provenance = p.provenance;
  TrainConfig& config = p.config;
  provenance.dependencies.push_back({"base", "", base_digest});
  if (job.parent_dir) {
    GRAFT_ASSIGN_OR_RETURN(ParentAdapter parent, ParentAdapter::Read(*job.parent_dir));
    GRAFT_RETURN_IF_ERROR(parent.CheckBase(base_digest));
    provenance.dependencies.push_back({"parent", "", parent.root_digest});
  }
  GRAFT_ASSIGN_OR_RETURN(std::string train_sha, FileSha256(job.train_data));
  provenance.dependencies.push_back(
      {"dataset:train", job.train_data.filename().string(), train_sha});
  if (job.valid_data) {
    GRAFT_ASSIGN_OR_RETURN(std::string valid_sha, FileSha256(*job.valid_data));
    provenance.dependencies.push_back(
        {"dataset:valid", job.valid_data->filename().string(), valid_sha});
  }
  if (job.policy_digest) provenance.dependencies.push_back({"policy", "", *job.policy_digest});
  if (job.full) config.lora.reset();  // a full fine-tune has no adapter: its config is not recorded
  if (config.lora) config.lora->base_model_name_or_path = base_model;
  provenance.config = config.ToJson();
  provenance.config_sha256 = config_sha256;
  provenance.policy = job.policy_digest;
  provenance.full = job.full;
  provenance.seed = config.seed;
  provenance.threads = config.threads;
  provenance.world_size = job.group ? job.group->world_size() : 1;
  provenance.graft_version = GRAFT_VERSION;
  provenance.libtorch_version = TORCH_VERSION;
  provenance.blas = BlasDescription();
  return Status::Ok();
}

// One rank's inputs loaded and checked, and the provenance begun; the leader's run announced.
Result<Prepared> Prepare(const TrainJob& job, bool leader, const fs::path& partial,
                         const std::string& base_model) {
  Prepared p;
  if (leader) {
    GRAFT_RETURN_IF_ERROR(CheckOutputDirs(job, partial));
    GRAFT_ASSIGN_OR_RETURN(p.key, PrivateKey::LoadPem(job.key_path));
  }
  GRAFT_ASSIGN_OR_RETURN(p.config, LoadTrainConfig(job.config_path));
  const TrainConfig& config = p.config;
  GRAFT_RETURN_IF_ERROR(config.CheckMode(job.full, job.config_path.string()));
  if (job.full && job.parent_dir) {
    return InvalidInput("--parent continues a LoRA adapter; it does not combine with --full");
  }
  GRAFT_ASSIGN_OR_RETURN(std::string config_sha256, FileSha256(job.config_path));
  GRAFT_ASSIGN_OR_RETURN(Manifest base_manifest, BuildManifest(job.base_dir));
  GRAFT_ASSIGN_OR_RETURN(p.model, models::CausalLM::Load(job.base_dir, job.base_dtype));
  // Checked before anything starts: a longer window would fail at the first step.
  if (const int64_t context = p.model->config().max_positions;
      context > 0 && config.max_seq_len > context) {
    return InvalidInput(job.config_path.string() + ": max_seq_len " +
                        std::to_string(config.max_seq_len) +
                        " is longer than the base's context (" + std::to_string(context) +
                        " positions in " + (job.base_dir / "config.json").string() + ")");
  }
  Result<TextEncoder> encoder =
      TextEncoder::For(p.model->tokenizer(), p.model->config().eos_token_id);
  if (!encoder.ok()) return encoder.status().WithContext(job.base_dir.string());
  GRAFT_ASSIGN_OR_RETURN(p.train, Dataset::Load(job.train_data, *encoder));
  if (job.valid_data) {
    GRAFT_ASSIGN_OR_RETURN(p.valid, Dataset::Load(*job.valid_data, *encoder));
  }
  GRAFT_RETURN_IF_ERROR(
      RecordInputs(job, base_manifest.RootDigestHex(), config_sha256, base_model, p));
  if (leader && !job.resume) {
    // Announced last, once every input checked, so a refused run is not announced.
    p.run = {{"invocationId", TrainingProvenance::NewInvocationId()},
             {"startedOn", TrainingProvenance::Now()}};
    p.provenance.invocation_id = p.run["invocationId"].get<std::string>();
    if (job.announce) {
      GRAFT_ASSIGN_OR_RETURN(p.run["announcement"], job.announce(p.provenance));
    }
  }
  return p;
}

// The provenance's record of what the run produced (its byproducts).
void RecordOutcome(const TrainSummary& s, const distributed::Group* group,
                   const std::vector<distributed::RankInputs>& ranks,
                   TrainingProvenance& provenance) {
  provenance.finished_on = TrainingProvenance::Now();
  provenance.byproducts = {{"train_loss", s.train_loss}, {"steps", s.steps}, {"tokens", s.tokens}};
  if (s.valid_loss) provenance.byproducts.push_back({"valid_loss", *s.valid_loss});
  if (s.valid_bits_per_byte) {
    provenance.byproducts.push_back({"valid_bits_per_byte", *s.valid_bits_per_byte});
  }
  provenance.byproducts.push_back({"wall_seconds", s.wall_seconds});
  provenance.byproducts.push_back({"loss_curve", LossCurveToJson(s.loss_curve)});
  if (group) {
    Json ranks_json = Json::array();
    for (const distributed::RankInputs& r : ranks) {
      ranks_json.push_back({{"rank", r.rank}, {"host", r.host}, {"checked", r.digests}});
    }
    provenance.byproducts.push_back({"ranks", std::move(ranks_json)});
  }
}

// Saves the trained result in OUT.partial/output with its model card, signs it and renames it
// to OUT; the root digest.
Result<std::string> Publish(const TrainJob& job, Trainer& trainer,
                            const TrainingProvenance& provenance, const PrivateKey& key,
                            const fs::path& partial, const std::string& base_model) {
  std::error_code ec;
  const fs::path staged = partial / "output";
  fs::remove_all(staged, ec);
  GRAFT_RETURN_IF_ERROR(trainer.Save(staged));
  GRAFT_RETURN_IF_ERROR(
      WriteFileAtomic(staged / kModelCardFile,
                      RenderModelCard(DirName(job.out_dir), base_model, job.license, provenance)));
  GRAFT_ASSIGN_OR_RETURN(std::string root_digest,
                         provenance.SignDirectory(staged, DirName(job.out_dir), key));
  fs::rename(staged, job.out_dir, ec);
  if (ec)
    return IoError("cannot rename " + staged.string() + " to " + job.out_dir.string() + ": " +
                   ec.message());
  fs::path parent = fs::absolute(job.out_dir, ec).lexically_normal().parent_path();
  GRAFT_RETURN_IF_ERROR(SyncDirectory(parent));
  fs::remove_all(partial, ec);
  return root_digest;
}

}  // namespace

Result<TrainJobResult> TrainJob::Run() const {
  TrainJobResult result;
  result.partial_dir = PartialDir(out_dir);
  const fs::path& partial = result.partial_dir;
  const bool leader = group == nullptr || group->leader();
  std::error_code ec;
  const std::string base_model = base_name_or_path.value_or(DirName(base_dir));
  Result<Prepared> prepared = Prepare(*this, leader, partial, base_model);
  std::vector<distributed::RankInputs> ranks;
  if (group) {
    const std::map<std::string, std::string> digests =
        prepared.ok() ? prepared->Digests(full, resume) : std::map<std::string, std::string>();
    GRAFT_ASSIGN_OR_RETURN(ranks, group->CheckInputs(prepared.status(), digests));
  }
  GRAFT_RETURN_IF_ERROR(prepared.status());
  TrainingProvenance& provenance = prepared->provenance;

  TrainerOptions options;
  options.config = prepared->config;
  options.full = full;
  if (parent_dir) options.parent = *parent_dir;
  options.checkpoint_dir = partial / "checkpoints";
  options.resume = resume;
  GRAFT_ASSIGN_OR_RETURN(std::string fingerprint, CanonicalJson(provenance.BuildDefinition()));
  options.fingerprint = Sha256Hex(fingerprint);
  options.stop = stop;
  options.progress = progress;
  options.live = live;
  options.after_step = after_step;
  options.group = group;
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                         Trainer::Create(*prepared->model, std::move(options),
                                         std::move(*prepared->train), std::move(prepared->valid)));
  if (!leader) {
    GRAFT_ASSIGN_OR_RETURN(result.summary, trainer->Run());
    return result;
  }
  // OUT.partial appears once the run can start, so a refused run leaves nothing behind.
  fs::create_directories(partial, ec);
  if (ec) return IoError("cannot create " + partial.string() + ": " + ec.message());
  GRAFT_ASSIGN_OR_RETURN(Json run, StartRun(partial, resume, prepared->run));
  provenance.invocation_id = run["invocationId"].get<std::string>();
  provenance.started_on = run["startedOn"].get<std::string>();
  provenance.announcement = run.value("announcement", Json());
  Result<TrainSummary> summary = trainer->Run();
  if (!summary.ok()) {
    // A run that failed before its first checkpoint leaves nothing to resume: OUT.partial must
    // not block a corrected rerun.
    const fs::path checkpoints = partial / "checkpoints";
    bool checkpointed = fs::is_directory(checkpoints, ec) && !fs::is_empty(checkpoints, ec);
    if (!resume && !checkpointed) fs::remove_all(partial, ec);
    return summary.status();
  }
  result.summary = std::move(*summary);
  if (result.summary.interrupted) return result;
  RecordOutcome(result.summary, group, ranks, provenance);
  GRAFT_ASSIGN_OR_RETURN(result.root_digest,
                         Publish(*this, *trainer, provenance, *prepared->key, partial, base_model));
  result.dir = out_dir;
  return result;
}

}  // namespace graft::trainer
