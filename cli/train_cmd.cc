// `graft train`: LoRA or full fine-tuning of a base model into a signed adapter directory. The
// definition; graft-model runs it (cli/train_run.cc).
#include "cli/common.h"
#include "cli/data_parallel.h"

namespace graft::cli {
namespace {

static GroupRegistrar kTrainGroup("train", "fine-tune a base model (LoRA, or --full)");

static CommandRegistrar kTrain({
    .group = "train",
    .verb = "",
    .summary = "Train a LoRA adapter (or with --full every parameter) on JSONL data; writes a PEFT "
               "directory (an HF model with --full) signed with model.sig and an SLSA provenance "
               "attestation (provenance.intoto.jsonl). Ctrl-C checkpoints and stops with exit code "
               "130 (128 + SIGINT, as a shell reports it); --resume continues to the same "
               "result.",
    .usage = "--base DIR --data FILE.jsonl --config FILE.yaml --out DIR --key KEYFILE",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()                                                                   //
              ("base", po::value<std::string>()->required(), "base model directory (HF layout)")  //
              ("data", po::value<std::string>()->required(),
               "training data: JSONL lines {\"text\"} or {\"prompt\", \"completion\"}")         //
              ("valid", po::value<std::string>(), "validation data (JSONL), for loss and bpb")  //
              ("config", po::value<std::string>()->required(), "training config (YAML)")        //
              ("out", po::value<std::string>()->required(),
               "output directory (must not exist; OUT.partial holds the run until it ends)")   //
              ("key", po::value<std::string>()->required(), "private key (PEM) to sign with")  //
              ("full", "train every parameter and write a full HF model directory")            //
              ("resume", "continue the interrupted run in OUT.partial")                        //
              ("parent", po::value<std::string>(),
               "continue training this PEFT adapter directory (same base, r, lora_alpha and "
               "target modules); it becomes the adapter's parent in provenance and lineage "
               "(graft adapter export REF --out DIR gives the directory of a registered one)")  //
              ("policy", po::value<std::string>(),
               "policy this run is trained under: a digest, or a registered REF (name, name@N) "
               "resolved in the registry; its digest is recorded in provenance")  //
              ("no-announce",
               "do not announce the run in the registry (by default a run with --policy and a "
               "registry is announced there before it starts, and its provenance names the "
               "announcement)")  //
              ("base-name-or-path", po::value<std::string>(),
               "base_model_name_or_path for adapter_config.json and the model card, e.g. a "
               "Hugging Face hub id (default: the base directory's name)")  //
              ("license", po::value<std::string>()->default_value("other"),
               "license field of the README.md model card (an SPDX id)")  //
              ("base-dtype", po::value<std::string>()->default_value("f32"),
               "keep the frozen base's weights in f32, bf16, f16 or q8_0 (computing in f32; LoRA "
               "weights stay f32; --full needs f32)");
          AddRegistryOption(options);
          AddNprocOption(options);
        },
    .model_runner = "train",
});

}  // namespace
}  // namespace graft::cli
