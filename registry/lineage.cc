#include "registry/lineage.h"

#include <deque>
#include <functional>
#include <set>

namespace graft::registry {

namespace {

std::string Short(const std::string& id) { return id.substr(0, 12); }

}  // namespace

Status Lineage::AddNode(Registry& registry, const std::string& id) {
  if (nodes_.contains(id)) return Status::Ok();
  LineageNode node;
  node.id = id;
  GRAFT_ASSIGN_OR_RETURN(Statement s,
                         registry.db().Prepare("SELECT kind FROM attestations WHERE digest = ?"));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, id));
  GRAFT_ASSIGN_OR_RETURN(bool is_attestation, s.Step());
  if (is_attestation) {
    node.kind = s.Text(0) + " attestation";
    node.label = "sha256:" + Short(id);
    nodes_[id] = node;
    return Status::Ok();
  }
  Result<ObjectRecord> object = registry.Get(id);
  if (object.ok()) {
    node.kind = object->kind;
    node.label = object->labels.empty() ? "sha256:" + Short(id) : object->labels.back();
    node.revoked = object->revoked_seq.has_value();
    node.attested = object->kind != "adapter" || object->attested;
    nodes_[id] = node;
    return Status::Ok();
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<KeyRecord> keys, registry.Keys());
  for (const KeyRecord& k : keys) {
    if (k.key_id != id) continue;
    node.kind = "key";
    node.label = k.name.empty() ? Short(id) : k.name + " (" + k.role + ")";
    node.revoked = node.revoked || k.revoked_seq.has_value();
  }
  if (node.kind.empty()) {
    node.kind = "unregistered";
    node.label = "sha256:" + Short(id);
  }
  nodes_[id] = node;
  return Status::Ok();
}

Result<Lineage> Lineage::Of(Registry& registry, const std::string& digest) {
  Lineage lineage;
  lineage.root_ = digest;
  GRAFT_RETURN_IF_ERROR(lineage.AddNode(registry, digest));
  std::deque<std::string> queue = {digest};
  std::set<std::string> seen = {digest};
  while (!queue.empty()) {
    std::string id = queue.front();
    queue.pop_front();
    GRAFT_ASSIGN_OR_RETURN(std::vector<Edge> edges, registry.EdgesFrom(id));
    // Attestations about this object that are not already its edges (evaluations, decisions).
    GRAFT_ASSIGN_OR_RETURN(std::vector<AttestationRecord> attestations, registry.Attestations(id));
    for (const AttestationRecord& a : attestations) {
      bool listed = false;
      for (const Edge& e : edges) listed = listed || e.dst == a.digest;
      if (!listed) edges.push_back({id, a.kind, a.digest});
    }
    for (const Edge& e : edges) {
      GRAFT_RETURN_IF_ERROR(lineage.AddNode(registry, e.dst));
      lineage.edges_.push_back(e);
      if (seen.insert(e.dst).second) queue.push_back(e.dst);
    }
  }
  return lineage;
}

Result<Lineage> Lineage::Uses(Registry& registry, const std::string& id) {
  Lineage lineage;
  lineage.root_ = id;
  lineage.reverse_ = true;
  GRAFT_RETURN_IF_ERROR(lineage.AddNode(registry, id));
  std::deque<std::string> queue = {id};
  std::set<std::string> seen = {id};
  while (!queue.empty()) {
    std::string current = queue.front();
    queue.pop_front();
    GRAFT_ASSIGN_OR_RETURN(std::vector<Edge> edges, registry.EdgesTo(current));
    for (const Edge& e : edges) {
      GRAFT_RETURN_IF_ERROR(lineage.AddNode(registry, e.src));
      lineage.edges_.push_back(e);
      if (seen.insert(e.src).second) queue.push_back(e.src);
    }
  }
  return lineage;
}

std::string Lineage::ToText() const {
  std::string out;
  auto describe = [&](const std::string& id) {
    const LineageNode& n = nodes_.at(id);
    std::string text = n.kind + " " + n.label;
    if (n.kind != "key" && n.kind.find("attestation") == std::string::npos) {
      text += " sha256:" + id;
    } else if (n.kind == "key") {
      text += " " + id;
    }
    if (n.revoked) text += " [REVOKED]";
    if (!n.attested) text += " [UNATTESTED]";
    return text;
  };
  std::set<std::string> printed;
  std::function<void(const std::string&, const std::string&)> walk =
      [&](const std::string& id, const std::string& indent) {
        std::vector<const Edge*> children;
        for (const Edge& e : edges_) {
          if ((reverse_ ? e.dst : e.src) == id) children.push_back(&e);
        }
        for (size_t i = 0; i < children.size(); ++i) {
          const Edge& e = *children[i];
          const std::string& next = reverse_ ? e.src : e.dst;
          bool last = i + 1 == children.size();
          out += indent + (last ? "└─ " : "├─ ") + (reverse_ ? "used as " : "") + e.relation +
                 (reverse_ ? " by " : ": ") + describe(next);
          if (!printed.insert(next).second) {
            out += " (see above)\n";
            continue;
          }
          out += "\n";
          walk(next, indent + (last ? "   " : "│  "));
        }
      };
  out = describe(root_) + "\n";
  printed.insert(root_);
  walk(root_, "");
  return out;
}

std::string Lineage::ToDot() const {
  auto quote = [](const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  std::string out = "digraph lineage {\n  rankdir=LR;\n  node [shape=box];\n";
  for (const auto& [id, n] : nodes_) {
    std::string label = n.kind + "\\n" + n.label;
    out += "  " + quote(id) + " [label=\"" + label + "\"" +
           (n.revoked ? ", color=red" : (!n.attested ? ", style=dashed" : "")) + "];\n";
  }
  for (const Edge& e : edges_) {
    out += "  " + quote(e.src) + " -> " + quote(e.dst) + " [label=" + quote(e.relation) + "];\n";
  }
  return out + "}\n";
}

Json Lineage::ToJson() const {
  Json nodes = Json::array();
  for (const auto& [id, n] : nodes_) {
    nodes.push_back({{"id", id},
                     {"kind", n.kind},
                     {"label", n.label},
                     {"revoked", n.revoked},
                     {"attested", n.attested}});
  }
  Json edges = Json::array();
  for (const Edge& e : edges_) {
    edges.push_back({{"src", e.src}, {"relation", e.relation}, {"dst", e.dst}});
  }
  return {{"root", root_},
          {"direction", reverse_ ? "uses" : "lineage"},
          {"nodes", nodes},
          {"edges", edges}};
}

}  // namespace graft::registry
