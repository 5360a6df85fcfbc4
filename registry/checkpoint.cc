#include "registry/checkpoint.h"

#include <charconv>
#include <vector>

#include "core/encoding.h"

namespace graft::registry {

namespace {

constexpr std::string_view kEmDash = "\xE2\x80\x94";  // U+2014, as C2SP notes use it

Result<std::string> RawEd25519(const PublicKey& key) {
  if (key.algorithm() != KeyAlgorithm::kEd25519) {
    return InvalidInput("checkpoints are signed with Ed25519 keys, got " +
                        std::string(KeyAlgorithmName(key.algorithm())));
  }
  const std::string& der = key.der();
  if (der.size() < 32) return InvalidInput("malformed Ed25519 public key");
  return der.substr(der.size() - 32);
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace

std::string Checkpoint::Body() const {
  return origin + "\n" + std::to_string(size) + "\n" +
         Base64Encode(std::string_view(reinterpret_cast<const char*>(root.data()), root.size())) +
         "\n";
}

Result<std::string> NoteKeyHash(std::string_view key_name, const PublicKey& key) {
  GRAFT_ASSIGN_OR_RETURN(std::string raw, RawEd25519(key));
  std::string material = std::string(key_name) + "\n" + std::string("\x01", 1) + raw;
  Digest digest = Sha256::Of(material);
  return std::string(reinterpret_cast<const char*>(digest.data()), 4);
}

Result<std::string> Checkpoint::Sign(std::string_view key_name, const PrivateKey& key) const {
  GRAFT_ASSIGN_OR_RETURN(std::string key_hash, NoteKeyHash(key_name, key.public_key()));
  std::string body = Body();
  GRAFT_ASSIGN_OR_RETURN(std::string signature, key.Sign(body));
  return body + "\n" + std::string(kEmDash) + " " + std::string(key_name) + " " +
         Base64Encode(key_hash + signature) + "\n";
}

Result<Checkpoint> Checkpoint::ParseAndVerify(std::string_view note, std::string_view key_name,
                                              const PublicKey& key) {
  auto bad = [](const std::string& why) { return InvalidInput("malformed checkpoint: " + why); };
  size_t split = note.find("\n\n");
  if (split == std::string_view::npos) return bad("no blank line before the signatures");
  std::string_view body = note.substr(0, split + 1);
  std::vector<std::string_view> lines = SplitLines(body);
  if (lines.size() < 3) return bad("needs origin, size and root hash lines");
  Checkpoint checkpoint;
  checkpoint.origin = std::string(lines[0]);
  if (checkpoint.origin.empty()) return bad("empty origin");
  auto [end, ec] =
      std::from_chars(lines[1].data(), lines[1].data() + lines[1].size(), checkpoint.size);
  if (ec != std::errc() || end != lines[1].data() + lines[1].size() || lines[1].empty() ||
      (lines[1].size() > 1 && lines[1][0] == '0')) {
    return bad("tree size \"" + std::string(lines[1]) + "\" is not a decimal number");
  }
  GRAFT_ASSIGN_OR_RETURN(std::string root, Base64Decode(lines[2]));
  if (root.size() != checkpoint.root.size()) return bad("root hash is not 32 bytes");
  std::copy(root.begin(), root.end(), checkpoint.root.begin());

  GRAFT_ASSIGN_OR_RETURN(std::string key_hash, NoteKeyHash(key_name, key));
  std::string prefix = std::string(kEmDash) + " " + std::string(key_name) + " ";
  bool signer_found = false;
  for (std::string_view line : SplitLines(note.substr(split + 2))) {
    if (!line.starts_with(prefix)) continue;
    Result<std::string> blob = Base64Decode(line.substr(prefix.size()));
    if (!blob.ok() || blob->size() < 4 || blob->substr(0, 4) != key_hash) continue;
    signer_found = true;
    if (key.Verify(body, blob->substr(4))) return checkpoint;
  }
  if (!signer_found) {
    return VerificationFailed("checkpoint carries no signature by key \"" + std::string(key_name) +
                              "\"");
  }
  return VerificationFailed("checkpoint signature by \"" + std::string(key_name) +
                            "\" does not verify");
}

}  // namespace graft::registry
