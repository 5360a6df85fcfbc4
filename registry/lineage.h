// Lineage: the graph of what an object came from (and what uses an object), rendered as text, DOT
// or JSON.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "registry/registry.h"

namespace graft::registry {

struct LineageNode {
  std::string id;     // digest, or key id for keys
  std::string kind;   // base, dataset, adapter, ..., key, attestation kind, or "unregistered"
  std::string label;  // "support-bot@2", key name, ...
  bool revoked = false;
  bool attested = true;
};

class Lineage {
 public:
  // Everything `digest` depends on, transitively (base, datasets, parent adapters, config,
  // policy, signing keys, attestations), plus attestations about it (evaluations, decisions).
  static Result<Lineage> Of(Registry& registry, const std::string& digest);
  // Everything that depends on `id` (an object digest or key id), transitively.
  static Result<Lineage> Uses(Registry& registry, const std::string& id);

  const std::string& root() const { return root_; }
  const std::map<std::string, LineageNode>& nodes() const { return nodes_; }
  const std::vector<Edge>& edges() const { return edges_; }

  std::string ToText() const;
  std::string ToDot() const;
  Json ToJson() const;

 private:
  Status AddNode(Registry& registry, const std::string& id);
  std::string root_;
  bool reverse_ = false;
  std::map<std::string, LineageNode> nodes_;
  std::vector<Edge> edges_;
};

}  // namespace graft::registry
