#include "core/yaml_reader.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

namespace graft {
namespace {

// Parses a document without building it (to count documents).
class IgnoreEvents : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

std::string Where(std::string_view source, const YAML::Mark& mark) {
  std::string where(source);
  if (!mark.is_null()) {
    where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  return where;
}

bool Plain(const YAML::Node& node) { return node.IsScalar() && node.Tag() != "!"; }

}  // namespace

Result<YAML::Node> YamlReader::Parse(std::string_view text) const {
  try {
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    IgnoreEvents ignore;
    int documents = 0;
    while (documents <= 2 && parser.HandleNextDocument(ignore)) ++documents;
    if (documents > 1) {
      return InvalidInput(source_ + ": expected one YAML document, found " +
                          (documents > 2 ? "more than 2" : std::to_string(documents)));
    }
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidInput(Where(source_, e.mark) + ": not valid YAML: " + e.msg);
  }
}

Status YamlReader::Error(const YAML::Node& at, const std::string& path,
                         std::string_view problem) const {
  return InvalidInput(Where(source_, at.Mark()) + ": " + (path.empty() ? "" : path + ": ") +
                      std::string(problem));
}

Status YamlReader::CheckKeys(const YAML::Node& node, const std::string& path,
                             const std::function<bool(std::string_view)>& allowed) const {
  if (!node.IsMap()) return Error(node, path, "expected a mapping, got " + Describe(node));
  std::set<std::string, std::less<>> seen;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) return Error(entry.first, path, "keys must be plain strings");
    const std::string& key = entry.first.Scalar();
    if (!seen.insert(key).second) return Error(entry.first, path, "duplicate key \"" + key + "\"");
    if (!allowed(key)) return Error(entry.first, path, "unknown key \"" + key + "\"");
  }
  return Status::Ok();
}

Status YamlReader::CheckMap(const YAML::Node& node, const std::string& path,
                            std::initializer_list<std::string_view> allowed) const {
  return CheckKeys(node, path, [&](std::string_view key) {
    return std::find(allowed.begin(), allowed.end(), key) != allowed.end();
  });
}

Status YamlReader::ReadMap(const YAML::Node& node, const std::string& path,
                           const Handlers& handlers) const {
  GRAFT_RETURN_IF_ERROR(
      CheckKeys(node, path, [&](std::string_view key) { return handlers.contains(key); }));
  for (const auto& entry : node) {
    GRAFT_RETURN_IF_ERROR(handlers.find(entry.first.Scalar())->second(entry.second));
  }
  return Status::Ok();
}

Result<YAML::Node> YamlReader::Required(const YAML::Node& map, const std::string& path,
                                        std::string_view key) const {
  YAML::Node value = map[std::string(key)];
  if (!value.IsDefined()) return Error(map, path, "missing key \"" + std::string(key) + "\"");
  return value;
}

Result<std::string> YamlReader::Scalar(const YAML::Node& node, const std::string& path) const {
  if (!node.IsScalar()) return Error(node, path, "expected a string, got " + Describe(node));
  return node.Scalar();
}

Result<std::string> YamlReader::String(const YAML::Node& node, const std::string& path) const {
  GRAFT_ASSIGN_OR_RETURN(std::string value, Scalar(node, path));
  if (value.empty()) return Error(node, path, "must not be empty");
  return value;
}

Result<std::vector<std::string>> YamlReader::StringList(const YAML::Node& node,
                                                        const std::string& path) const {
  if (!node.IsSequence()) {
    return Error(node, path, "expected a list of strings, got " + Describe(node));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    GRAFT_ASSIGN_OR_RETURN(std::string value, String(node[i], Index(path, i)));
    out.push_back(std::move(value));
  }
  return out;
}

Result<double> YamlReader::Number(const YAML::Node& node, const std::string& path) const {
  double value = 0;
  if (!Plain(node) || !YAML::convert<double>::decode(node, value) || !std::isfinite(value)) {
    return Error(node, path, "expected a finite number, got " + Describe(node));
  }
  return value;
}

Result<int64_t> YamlReader::Integer(const YAML::Node& node, const std::string& path, int64_t min,
                                    int64_t max) const {
  int64_t value = 0;
  if (!Plain(node) || !YAML::convert<int64_t>::decode(node, value)) {
    return Error(node, path, "expected an integer, got " + Describe(node));
  }
  if (value < min || value > max) {
    const std::string range = max == INT64_MAX
                                  ? ">= " + std::to_string(min)
                                  : "in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
    return Error(node, path, "must be " + range + ", got " + node.Scalar());
  }
  return value;
}

Result<bool> YamlReader::Bool(const YAML::Node& node, const std::string& path) const {
  bool value = false;
  if (!Plain(node) || !YAML::convert<bool>::decode(node, value)) {
    return Error(node, path, "expected true or false, got " + Describe(node));
  }
  return value;
}

std::string YamlReader::Child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string YamlReader::Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

std::string YamlReader::Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return node.Tag() == "!" ? "the string \"" + node.Scalar() + "\""
                               : "\"" + node.Scalar() + "\"";
    default:
      return "nothing";
  }
}

}  // namespace graft
