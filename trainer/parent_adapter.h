// ParentAdapter: the existing PEFT adapter a LoRA run continues from (`graft train --parent`).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/status.h"

namespace graft::trainer {

struct ParentAdapter {
  std::filesystem::path dir;
  // Its root digest as the registry identifies it (model.sig and the provenance file ignored):
  // recorded in the child's provenance as the "parent" dependency, the lineage's parent edge.
  std::string root_digest;
  // The base its provenance names, when it has one (read, not verified: the registry verifies
  // both adapters when they are registered).
  std::optional<std::string> base_digest;

  // Hashes DIR and reads the base out of DIR/provenance.intoto.jsonl if present. A directory
  // without adapter_config.json, or an unreadable provenance, is an error naming the file.
  static Result<ParentAdapter> Read(const std::filesystem::path& dir);

  // An error unless the parent was trained on the base with this root digest (a parent without
  // provenance passes: its fit is checked on its tensors when it is loaded).
  Status CheckBase(const std::string& base_root_digest) const;
};

}  // namespace graft::trainer
