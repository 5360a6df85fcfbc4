// Test support: tiny HF base-model and signed PEFT LoRA directories, and whole-tree hashing.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/keys.h"
#include "core/status.h"

namespace graft::testing {

struct TinyGpt2 {
  int n_embd = 8;
  int n_layer = 2;
  int vocab_size = 16;
  int n_positions = 16;
  int n_head = 2;
};

// Writes config.json, model.safetensors (zeros) and tokenizer.json for a tiny GPT-2.
Status WriteTinyGpt2Base(const std::filesystem::path& dir, const TinyGpt2& shape = {},
                         int seed = 0);

struct LoraShape {
  int r = 2;
  int n_embd = 8;  // the base it is made for
  int n_layer = 2;
  std::vector<std::string> target_modules{"c_attn"};
  std::string base_model_name_or_path = "tiny";
  int seed = 0;  // varies the weights, hence the digest
};

// Writes adapter_config.json and adapter_model.safetensors (c_attn: A [r, d], B [3d, r]).
Status WriteLoraAdapter(const std::filesystem::path& dir, const LoraShape& shape = {});

// Signs the directory into DIR/model.sig (OMS v1.0), ignoring provenance.intoto.jsonl.
Status SignAdapter(const std::filesystem::path& dir, const PrivateKey& key);

struct ProvenanceInputs {
  std::string base_digest;
  std::vector<std::string> dataset_digests;
  std::string parent_digest;
  std::string policy_digest;
  std::string run_id = "run-1";
  std::string started_on = "2026-11-28T10:00:00Z";
  // externalParameters.announcement (what `graft run announce --json` gives as "reference");
  // empty: none.
  std::string announcement_json;
};
// Writes DIR/provenance.intoto.jsonl: a DSSE envelope over an SLSA v1 statement whose subject is
// the directory's root digest (ignoring model.sig and the provenance file).
Status WriteProvenance(const std::filesystem::path& dir, const PrivateKey& key,
                       const ProvenanceInputs& inputs);

// The OMS root digest of an adapter directory (ignoring model.sig and provenance).
std::string AdapterDigest(const std::filesystem::path& dir);
std::string BaseDigest(const std::filesystem::path& dir);

// SHA-256 of every regular file under `dir`, by relative path (for "byte-for-byte unchanged").
std::map<std::string, std::string> HashTree(const std::filesystem::path& dir);

}  // namespace graft::testing
