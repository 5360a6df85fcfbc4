// YamlReader: graft's one strict YAML reader (policies, suites, training configs): every error
// names the file, line, column and key path; duplicate keys and keys the caller does not know are
// refused.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace graft {

// Errors read "<source>:<line>:<column>: <path>: <problem>" (the path, e.g.
// "promotion.kpis[0].min_delta", is left out at the top level), as compilers print them. A
// scalar is plain when it is not quoted: quoted "8" is a string, never a number or a boolean.
class YamlReader {
 public:
  explicit YamlReader(std::string_view source) : source_(source) {}

  // Parses `text`, which must hold at most one YAML document: an empty text is a Null node.
  // Documents are counted by an event parser before the node is built, because yaml-cpp's
  // LoadAll loops for ever on some inputs (a lone ",").
  Result<YAML::Node> Parse(std::string_view text) const;

  Status Error(const YAML::Node& at, const std::string& path, std::string_view problem) const;

  // `node` must be a mapping with distinct plain-string keys, each in `allowed`.
  Status CheckMap(const YAML::Node& node, const std::string& path,
                  std::initializer_list<std::string_view> allowed) const;
  // The same check, the allowed keys being those of `handlers`; then runs each entry's handler
  // on its value, in the document's order.
  using Handlers = std::map<std::string, std::function<Status(const YAML::Node&)>, std::less<>>;
  Status ReadMap(const YAML::Node& node, const std::string& path, const Handlers& handlers) const;

  // The value of `key` in `map`, which must be there.
  Result<YAML::Node> Required(const YAML::Node& map, const std::string& path,
                              std::string_view key) const;

  // A non-empty scalar, quoted or not.
  Result<std::string> String(const YAML::Node& node, const std::string& path) const;
  // Any scalar, possibly empty.
  Result<std::string> Scalar(const YAML::Node& node, const std::string& path) const;
  // A list of non-empty scalars.
  Result<std::vector<std::string>> StringList(const YAML::Node& node,
                                              const std::string& path) const;
  // A plain finite number.
  Result<double> Number(const YAML::Node& node, const std::string& path) const;
  // A plain integer in [min, max] (max INT64_MAX: no upper bound).
  Result<int64_t> Integer(const YAML::Node& node, const std::string& path, int64_t min,
                          int64_t max) const;
  // A plain boolean (true/false, and YAML 1.1's yes/no/on/off, as yaml-cpp reads them).
  Result<bool> Bool(const YAML::Node& node, const std::string& path) const;

  // Key paths: Child("promotion", "kpis") is "promotion.kpis" (Child("", "policy") is "policy");
  // Index("kpis", 0) is "kpis[0]".
  static std::string Child(const std::string& path, std::string_view key);
  static std::string Index(const std::string& path, size_t i);
  // How a node reads in an error: null, a list, a mapping, "text", the string "text" (quoted).
  static std::string Describe(const YAML::Node& node);

 private:
  Status CheckKeys(const YAML::Node& node, const std::string& path,
                   const std::function<bool(std::string_view)>& allowed) const;

  std::string source_;
};

}  // namespace graft
