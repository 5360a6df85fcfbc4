#include "tests/support/peft_fixture.h"

#include <cstring>

#include "core/dsse.h"
#include "core/file_util.h"
#include "core/intoto.h"
#include "core/json.h"
#include "core/manifest.h"
#include "core/oms_signature.h"
#include "core/safetensors.h"
#include "core/sha256.h"

namespace graft::testing {
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> Floats(int64_t count, int seed) {
  std::vector<float> values(static_cast<size_t>(count));
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<float>((i + 13 * static_cast<size_t>(seed)) % 101) * 0.01f +
                static_cast<float>(seed) * 1e-6f;
  }
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

}  // namespace

Status WriteTinyGpt2Base(const fs::path& dir, const TinyGpt2& s, int seed) {
  fs::create_directories(dir);
  Json config = {{"model_type", "gpt2"},
                 {"n_embd", s.n_embd},
                 {"n_layer", s.n_layer},
                 {"n_head", s.n_head},
                 {"vocab_size", s.vocab_size},
                 {"n_positions", s.n_positions},
                 {"architectures", {"GPT2LMHeadModel"}}};
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(dir / "config.json", config.dump(2)));
  std::vector<uint8_t> wte = Floats(int64_t{s.vocab_size} * s.n_embd, seed);
  std::vector<uint8_t> wpe = Floats(int64_t{s.n_positions} * s.n_embd, seed + 1);
  GRAFT_RETURN_IF_ERROR(
      WriteSafetensors(dir / "model.safetensors",
                       {{"transformer.wte.weight", DType::kF32, {s.vocab_size, s.n_embd}, wte},
                        {"transformer.wpe.weight", DType::kF32, {s.n_positions, s.n_embd}, wpe}}));
  // A minimal BPE tokenizer that loads (`graft base register` refuses one that does not).
  return WriteFileAtomic(dir / "tokenizer.json",
                         R"({"pre_tokenizer":{"type":"Metaspace","replacement":"\u2581"},)"
                         R"("decoder":{"type":"Metaspace","replacement":"\u2581"},)"
                         R"("model":{"type":"BPE","unk_token":"<unk>",)"
                         R"("vocab":{"<unk>":0,"\u2581":1,"a":2},"merges":[]}})");
}

Status WriteLoraAdapter(const fs::path& dir, const LoraShape& s) {
  fs::create_directories(dir);
  Json config = {{"peft_type", "LORA"},
                 {"r", s.r},
                 {"lora_alpha", 2 * s.r},
                 {"lora_dropout", 0.0},
                 {"target_modules", s.target_modules},
                 {"fan_in_fan_out", true},
                 {"bias", "none"},
                 {"task_type", "CAUSAL_LM"},
                 {"base_model_name_or_path", s.base_model_name_or_path}};
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(dir / "adapter_config.json", config.dump(2)));
  std::vector<std::vector<uint8_t>> storage;
  std::vector<TensorToWrite> tensors;
  storage.reserve(2 * static_cast<size_t>(s.n_layer));  // spans point into it
  for (int layer = 0; layer < s.n_layer; ++layer) {
    std::string prefix =
        "base_model.model.transformer.h." + std::to_string(layer) + ".attn.c_attn.";
    storage.push_back(Floats(int64_t{s.r} * s.n_embd, s.seed + layer));
    tensors.push_back({prefix + "lora_A.weight", DType::kF32, {s.r, s.n_embd}, storage.back()});
    storage.push_back(Floats(int64_t{3} * s.n_embd * s.r, s.seed + layer + 1));
    tensors.push_back({prefix + "lora_B.weight", DType::kF32, {3 * s.n_embd, s.r}, storage.back()});
  }
  return WriteSafetensors(dir / "adapter_model.safetensors", tensors);
}

Status SignAdapter(const fs::path& dir, const PrivateKey& key) {
  OmsSignOptions options;
  options.ignore_paths = {"provenance.intoto.jsonl"};
  return OmsSign(dir, dir / "model.sig", key, options).status();
}

std::string AdapterDigest(const fs::path& dir) {
  ManifestOptions options;
  options.ignore_paths = {"model.sig", "provenance.intoto.jsonl"};
  Result<Manifest> manifest = BuildManifest(dir, options);
  return manifest.ok() ? manifest->RootDigestHex() : "";
}

std::string BaseDigest(const fs::path& dir) {
  Result<Manifest> manifest = BuildManifest(dir);
  return manifest.ok() ? manifest->RootDigestHex() : "";
}

Status WriteProvenance(const fs::path& dir, const PrivateKey& key, const ProvenanceInputs& inputs) {
  Json deps = Json::array();
  // The shape graft train writes (docs/formats.md): roles are told by dependency names.
  auto dep = [&](const std::string& name, const std::string& digest) {
    deps.push_back({{"name", name}, {"digest", {{"sha256", digest}}}});
  };
  dep("base", inputs.base_digest);
  for (const auto& d : inputs.dataset_digests) dep("dataset:train", d);
  if (!inputs.parent_digest.empty()) dep("parent_adapter", inputs.parent_digest);
  if (!inputs.policy_digest.empty()) dep("policy", inputs.policy_digest);
  Json external = {{"config", {{"seed", 1234}}}};
  if (!inputs.announcement_json.empty()) {
    GRAFT_ASSIGN_OR_RETURN(external["announcement"],
                           ParseJson(inputs.announcement_json, "announcement"));
  }
  InTotoStatement statement;
  statement.subjects.push_back({"adapter", {{"sha256", AdapterDigest(dir)}}});
  statement.predicate_type = "https://slsa.dev/provenance/v1";
  statement.predicate = {{"buildDefinition",
                          {{"buildType", "https://graft.dev/train/v1"},
                           {"externalParameters", external},
                           {"internalParameters", {{"seed", 1234}, {"threads", 2}}},
                           {"resolvedDependencies", deps}}},
                         {"runDetails",
                          {{"builder", {{"id", "https://graft.dev/trainer"}}},
                           {"metadata",
                            {{"invocationId", inputs.run_id},
                             {"startedOn", inputs.started_on},
                             {"finishedOn", inputs.started_on}}}}}};
  GRAFT_ASSIGN_OR_RETURN(std::string payload, CanonicalJson(statement.ToJson()));
  GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope, DsseSign(kInTotoPayloadType, payload, {&key}));
  return WriteFileAtomic(dir / "provenance.intoto.jsonl", envelope.Serialize() + "\n");
}

std::map<std::string, std::string> HashTree(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(dir, error);
       it != fs::recursive_directory_iterator(); it.increment(error)) {
    std::string relative = fs::relative(it->path(), dir).string();
    if (it->is_directory()) {
      out[relative + "/"] = "dir";
    } else if (it->is_regular_file()) {
      Result<Digest> digest = Sha256File(it->path());
      out[relative] = digest.ok() ? DigestHex(*digest) : "unreadable";
    }
  }
  return out;
}

}  // namespace graft::testing
