// The file names of the formats graft reads and writes, spelled once (HF base, PEFT adapter, OMS).
#pragma once

namespace graft {

// An HF base model directory.
inline constexpr char kHfConfigFile[] = "config.json";
inline constexpr char kHfWeightsFile[] = "model.safetensors";
inline constexpr char kHfWeightsIndexFile[] = "model.safetensors.index.json";  // sharded weights
inline constexpr char kTokenizerFile[] = "tokenizer.json";

// A PEFT LoRA adapter directory.
inline constexpr char kAdapterConfigFile[] = "adapter_config.json";
inline constexpr char kAdapterWeightsFile[] = "adapter_model.safetensors";

// Beside either: the OMS v1.0 signature, the SLSA provenance of the training run (both outside a
// directory's identity, docs/registry.md) and the model card.
inline constexpr char kSignatureFile[] = "model.sig";
inline constexpr char kProvenanceFile[] = "provenance.intoto.jsonl";
inline constexpr char kModelCardFile[] = "README.md";

}  // namespace graft
