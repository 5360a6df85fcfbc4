#include "trainer/model_card.h"

namespace graft::trainer {
namespace {

// A YAML double-quoted scalar.
std::string YamlQuoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Markdown inline code that cannot be broken out of.
std::string Code(const std::string& text) {
  std::string clean;
  for (char c : text) clean += (c == '`' || c == '\n' || c == '\r') ? ' ' : c;
  return "`" + clean + "`";
}

}  // namespace

std::string RenderModelCard(const std::string& name, const std::string& base_model,
                            const std::string& license, const TrainingProvenance& provenance) {
  std::string out = "---\n";
  out += "license: " + YamlQuoted(license) + "\n";
  if (!provenance.full) {
    out += "library_name: peft\n";
    out += "base_model: " + YamlQuoted(base_model) + "\n";
  }
  out += "tags:\n  - graft\n  - " + std::string(provenance.full ? "full-fine-tune" : "lora") +
         "\n---\n\n";
  out += "# " + Code(name) + "\n\n";
  out += std::string(provenance.full ? "A fine-tuned model" : "A LoRA adapter") +
         " trained by graft " + provenance.graft_version + " (libtorch " +
         provenance.libtorch_version +
         "). `model.sig` signs every file here, this card included; " +
         "`provenance.intoto.jsonl` is the signed SLSA provenance of the run.\n\n";
  out += "| input | name | sha256 |\n| --- | --- | --- |\n";
  for (const ResolvedDependency& d : provenance.dependencies) {
    out += "| " + d.name + " | " + (d.uri.empty() ? "" : Code(d.uri)) + " | " + Code(d.sha256) +
           " |\n";
  }
  out += "\n- base_model_name_or_path: " + Code(base_model) + "\n";
  out += "- policy: " +
         (provenance.policy ? Code("sha256:" + *provenance.policy)
                            : std::string("none (no pre-declared policy)")) +
         "\n";
  out += "- training config sha256: " + Code(provenance.config_sha256) + "\n";
  out += "- seed " + std::to_string(provenance.seed) + ", threads " +
         std::to_string(provenance.threads) + "\n";
  out += "- license: " + Code(license) + "\n\n";
  out +=
      "Gate decisions, evaluations and approvals are recorded in the graft registry the adapter "
      "is registered in (`graft adapter show`, `graft report`), not in this card: the card is "
      "signed with the files and does not change after training.\n";
  return out;
}

}  // namespace graft::trainer
