#include "registry/witness.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "core/encoding.h"
#include "core/file_util.h"
#include "core/sha256.h"
#include "registry/merkle_tree.h"

namespace graft::registry {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kEmDash = "\xE2\x80\x94";

Result<std::string> RawEd25519(const PublicKey& key) {
  if (key.algorithm() != KeyAlgorithm::kEd25519) {
    return InvalidInput("witness keys are Ed25519 (C2SP tlog-cosignature), got " +
                        std::string(KeyAlgorithmName(key.algorithm())));
  }
  return key.der().substr(key.der().size() - 32);
}

// First 4 bytes of SHA-256(name ‖ "\n" ‖ 0x04 ‖ raw key): the cosignature/v1 key id.
Result<std::string> CosignatureKeyId(std::string_view name, const PublicKey& key) {
  GRAFT_ASSIGN_OR_RETURN(std::string raw, RawEd25519(key));
  Digest digest = Sha256::Of(std::string(name) + "\n" + std::string("\x04", 1) + raw);
  return std::string(reinterpret_cast<const char*>(digest.data()), 4);
}

Result<std::string> NoteBody(std::string_view note) {
  size_t split = note.find("\n\n");
  if (split == std::string_view::npos) {
    return InvalidInput("malformed checkpoint: no blank line before the signatures");
  }
  return std::string(note.substr(0, split + 1));
}

std::string SignedMessage(std::string_view body, uint64_t time) {
  return "cosignature/v1\ntime " + std::to_string(time) + "\n" + std::string(body);
}

std::string BigEndian(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, value >>= 8) out[static_cast<size_t>(i)] = static_cast<char>(value);
  return out;
}

}  // namespace

std::string WitnessName(const PublicKey& key) {
  return "graft.local/witness/" + key.key_id().substr(0, 16);
}

Result<std::string> Cosign(std::string_view note, const PrivateKey& key, uint64_t time) {
  const std::string name = WitnessName(key.public_key());
  GRAFT_ASSIGN_OR_RETURN(std::string key_id, CosignatureKeyId(name, key.public_key()));
  GRAFT_ASSIGN_OR_RETURN(std::string body, NoteBody(note));
  GRAFT_ASSIGN_OR_RETURN(std::string signature, key.Sign(SignedMessage(body, time)));
  std::string out(note);
  if (!out.ends_with("\n")) out += "\n";
  return out + std::string(kEmDash) + " " + name + " " +
         Base64Encode(key_id + BigEndian(time) + signature) + "\n";
}

Result<uint64_t> VerifyCosignature(std::string_view note, const PublicKey& key) {
  const std::string name = WitnessName(key);
  GRAFT_ASSIGN_OR_RETURN(std::string key_id, CosignatureKeyId(name, key));
  GRAFT_ASSIGN_OR_RETURN(std::string body, NoteBody(note));
  const std::string prefix = std::string(kEmDash) + " " + name + " ";
  bool found = false;
  size_t start = body.size() + 1;
  while (start < note.size()) {
    size_t end = note.find('\n', start);
    if (end == std::string_view::npos) end = note.size();
    std::string_view line = note.substr(start, end - start);
    start = end + 1;
    if (!line.starts_with(prefix)) continue;
    Result<std::string> blob = Base64Decode(line.substr(prefix.size()));
    if (!blob.ok() || blob->size() != 4 + 8 + 64 || blob->substr(0, 4) != key_id) continue;
    found = true;
    uint64_t time = 0;
    for (size_t i = 4; i < 12; ++i) time = (time << 8) | static_cast<unsigned char>((*blob)[i]);
    if (key.Verify(SignedMessage(body, time), blob->substr(12))) return time;
  }
  return VerificationFailed(found ? "the cosignature by witness " + name + " does not verify"
                                  : "no cosignature by witness " + name);
}

fs::path WitnessStateFile(const fs::path& state_dir, std::string_view origin) {
  std::string file;
  for (char c : origin) {
    file += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '_';
  }
  return state_dir / (file + ".checkpoint");
}

void CheckWitnesses(const std::vector<PublicKey>& witnesses,
                    const std::vector<KeptCheckpoint>& kept, AuditReport& report) {
  for (const PublicKey& witness : witnesses) {
    std::string why =
        "no checkpoint it cosigned was given (--checkpoint FILE, --witness-state DIR)";
    for (const KeptCheckpoint& k : kept) {
      Result<uint64_t> cosigned = VerifyCosignature(k.note, witness);
      if (!cosigned.ok()) {
        why = "no checkpoint it cosigned: " + cosigned.status().message();
        continue;
      }
      // Its consistency with the log was checked with the other kept checkpoints.
      const bool consistent =
          std::none_of(report.problems.begin(), report.problems.end(),
                       [&](const std::string& p) { return p.find(k.source) != std::string::npos; });
      why = consistent ? "" : "its cosigned checkpoint " + k.source + " does not match the log";
      if (consistent) {
        report.checked.push_back(k.source + ": cosigned by witness " + WitnessName(witness) +
                                 " and consistent with the log");
        break;
      }
    }
    if (!why.empty()) {
      report.problems.push_back("witness " + WitnessName(witness) + ": " + why);
    }
  }
}

Result<WitnessOutcome> WitnessCheckpoint(Registry& registry, const PrivateKey& key,
                                         const fs::path& state_dir) {
  GRAFT_ASSIGN_OR_RETURN(std::string note, registry.LatestCheckpoint());
  GRAFT_ASSIGN_OR_RETURN(Checkpoint checkpoint, registry.VerifyCheckpoint(note));
  WitnessOutcome outcome;
  outcome.size = checkpoint.size;
  outcome.written = WitnessStateFile(state_dir, registry.origin());
  std::error_code error;
  if (fs::exists(outcome.written, error)) {
    const std::string source = outcome.written.string();
    GRAFT_ASSIGN_OR_RETURN(std::string kept_note, ReadFile(outcome.written, 1 << 20));
    Result<Checkpoint> kept = registry.VerifyCheckpoint(kept_note);
    if (!kept.ok()) return kept.status().WithContext(source);
    Result<uint64_t> cosigned = VerifyCosignature(kept_note, key.public_key());
    if (!cosigned.ok()) return cosigned.status().WithContext(source);
    outcome.previous_size = kept->size;
    if (kept->size > checkpoint.size) {
      return VerificationFailed("the log shrank: this witness cosigned size " +
                                std::to_string(kept->size) + " (" + source +
                                "), the registry's latest checkpoint is size " +
                                std::to_string(checkpoint.size) + "; not cosigning");
    }
    GRAFT_ASSIGN_OR_RETURN(std::vector<Digest> proof,
                           registry.ProveConsistency(kept->size, checkpoint.size));
    if (!VerifyConsistency(kept->size, checkpoint.size, kept->root, checkpoint.root, proof)) {
      return VerificationFailed("the log forked: size " + std::to_string(checkpoint.size) +
                                " does not extend size " + std::to_string(kept->size) +
                                " that this witness cosigned (" + source + "); not cosigning");
    }
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  GRAFT_ASSIGN_OR_RETURN(outcome.note, Cosign(note, key, static_cast<uint64_t>(now)));
  fs::create_directories(state_dir, error);
  if (error) return IoError("cannot create " + state_dir.string() + ": " + error.message());
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(outcome.written, outcome.note));
  return outcome;
}

}  // namespace graft::registry
