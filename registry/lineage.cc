#include "registry/lineage.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <set>
#include <tuple>

#include "registry/names.h"
#include "registry/vocabulary.h"

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
    node.label = object->DisplayName();
    node.revoked = object->revoked_seq.has_value();
    node.attested = object->kind != kAdapterKind || object->attested;
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
  // Every edge into the dependents, transitively, in one statement, each with what its source
  // is (attestation or object: kind, revoked, attested, last label) so no node needs a query of
  // its own.
  GRAFT_ASSIGN_OR_RETURN(
      Statement s,
      registry.db().Prepare(
          "WITH RECURSIVE walk(src, relation, dst) AS ("
          "SELECT src, relation, dst FROM edges WHERE dst = ?1 "
          "UNION SELECT e.src, e.relation, e.dst FROM walk w JOIN edges e ON e.dst = w.src) "
          "SELECT w.src, w.relation, w.dst, a.kind, o.kind, o.revoked_seq IS NOT NULL, o.attested, "
          "(SELECT l.name || '@' || l.version FROM labels l WHERE l.digest = w.src "
          "ORDER BY l.kind DESC, l.name DESC, l.version DESC LIMIT 1) "
          "FROM walk w LEFT JOIN attestations a ON a.digest = w.src "
          "LEFT JOIN objects o ON o.digest = w.src"));
  GRAFT_RETURN_IF_ERROR(s.Bind(1, id));
  std::map<std::string, std::vector<Edge>> into;  // dst -> its incoming edges
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Edge edge{s.Text(0), s.Text(1), s.Text(2)};
    if (!lineage.nodes_.contains(edge.src)) {
      LineageNode node;
      node.id = edge.src;
      if (!s.IsNull(3)) {
        node.kind = s.Text(3) + " attestation";
        node.label = "sha256:" + Short(edge.src);
      } else if (!s.IsNull(4)) {
        node.kind = s.Text(4);
        node.label = s.IsNull(7) ? "sha256:" + Short(edge.src) : s.Text(7);
        node.revoked = s.Int(5) != 0;
        node.attested = node.kind != kAdapterKind || s.Int(6) != 0;
      } else {
        node.kind = "unregistered";
        node.label = "sha256:" + Short(edge.src);
      }
      lineage.nodes_.emplace(edge.src, std::move(node));
    }
    into[edge.dst].push_back(std::move(edge));
  }
  // Breadth-first from the root, each node's incoming edges by (src, relation): the order a
  // reader follows, and the one Of uses.
  std::deque<std::string> queue = {id};
  std::set<std::string> seen = {id};
  while (!queue.empty()) {
    auto edges = into.find(queue.front());
    queue.pop_front();
    if (edges == into.end()) continue;
    std::sort(edges->second.begin(), edges->second.end(), [](const Edge& a, const Edge& b) {
      return std::tie(a.src, a.relation) < std::tie(b.src, b.relation);
    });
    for (Edge& e : edges->second) {
      if (seen.insert(e.src).second) queue.push_back(e.src);
      lineage.edges_.push_back(std::move(e));
    }
  }
  return lineage;
}

std::string Lineage::ToText() const {
  std::string out;
  auto describe = [&](const std::string& id) {
    const LineageNode& n = nodes_.at(id);
    // Labels of registries older than name validation may hold control characters.
    std::string text = n.kind + " " + EscapeControl(n.label);
    if (n.kind != "key" && n.kind.find("attestation") == std::string::npos) {
      text += " sha256:" + id;
    } else if (n.kind == "key") {
      text += " " + id;
    }
    if (n.revoked) text += " [REVOKED]";
    if (!n.attested) text += " [UNATTESTED]";
    return text;
  };
  std::map<std::string, std::vector<const Edge*>> children_of;  // in edge order
  for (const Edge& e : edges_) children_of[reverse_ ? e.dst : e.src].push_back(&e);
  std::set<std::string> printed;
  std::function<void(const std::string&, const std::string&)> walk =
      [&](const std::string& id, const std::string& indent) {
        auto found = children_of.find(id);
        if (found == children_of.end()) return;
        const std::vector<const Edge*>& children = found->second;
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
    std::string label = n.kind + "\\n" + EscapeControl(n.label);
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
