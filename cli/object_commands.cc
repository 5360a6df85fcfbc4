#include "cli/object_commands.h"

#include <iostream>
#include <map>

#include "cli/common.h"
#include "registry/vocabulary.h"

namespace graft::cli {

namespace {

std::string Flags(const registry::ObjectRecord& o) {
  std::string flags;
  if (o.stage) flags += " [" + Printable(*o.stage) + "]";
  if (o.kind == registry::kAdapterKind && !o.attested) flags += " [UNATTESTED]";
  if (o.revoked_seq) flags += " [REVOKED]";
  return flags;
}

std::string Labels(const registry::ObjectRecord& o) {
  std::string out;
  for (const std::string& label : o.labels) out += (out.empty() ? "" : ", ") + label;
  return out.empty() ? "-" : Printable(out);
}

}  // namespace

std::string TagsText(const registry::Annotations& annotations) {
  std::string out;
  for (const auto& [key, value] : annotations.tags) {
    out += (out.empty() ? "" : ", ") + key + "=" + value;
  }
  return Printable(out);
}

void PrintAnnotations(const registry::Annotations& annotations) {
  if (!annotations.tags.empty()) std::cout << "  tags:       " << TagsText(annotations) << "\n";
  if (!annotations.description) return;
  std::cout << "  description:\n";
  const std::string& text = *annotations.description;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::cout << "    " << Printable(std::string_view(text).substr(start, end - start)) << "\n";
    start = end + 1;
  }
}

void DefineRefOptions(po::options_description& options,
                      po::positional_options_description& positional) {
  options.add_options()("ref", po::value<std::string>()->required(),
                        "name@N, name@channel, name, digest or unique digest prefix");
  positional.add("ref", 1);
  AddRegistryOption(options);
  AddJsonOption(options);
}

int PrintRegistered(const po::variables_map& vm, const registry::ObjectRecord& object) {
  if (WantsJson(vm)) {
    PrintJson(object.ToJson());
  } else {
    std::cout << object.kind << " sha256:" << object.digest << "  " << Labels(object)
              << Flags(object) << "\n";
  }
  return kExitOk;
}

Result<int> RunListObjects(const po::variables_map& vm, const registry::ObjectFilter& filter) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  registry::ObjectFilter resolved = filter;
  resolved.with_info = false;  // a listing shows no info: it is then read from an index alone
  if (!filter.base_digest.empty()) {
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord base,
                           reg.Resolve(registry::kBaseKind, filter.base_digest));
    resolved.base_digest = base.digest;
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::ObjectRecord> objects, reg.List(resolved));
  std::map<std::string, registry::Annotations> annotations;  // adapters' tags and descriptions
  if (filter.kind == registry::kAdapterKind) {
    GRAFT_ASSIGN_OR_RETURN(annotations, reg.AllAdapterAnnotations());
  }
  if (WantsJson(vm)) {
    Json out = Json::array();
    for (const auto& o : objects) {
      Json entry = o.ToJson();
      entry.erase("info");
      if (filter.kind == registry::kAdapterKind) entry.update(annotations[o.digest].ToJson());
      out.push_back(std::move(entry));
    }
    PrintJson(out);
    return kExitOk;
  }
  for (const auto& o : objects) {
    std::cout << "sha256:" << o.digest << "  " << Labels(o) << Flags(o);
    auto it = annotations.find(o.digest);
    if (it != annotations.end() && !it->second.tags.empty()) {
      std::cout << "  tags: " << TagsText(it->second);
    }
    std::cout << "\n";
  }
  if (objects.empty()) std::cerr << "no " << filter.kind << " matches\n";
  return kExitOk;
}

Result<int> RunShowObject(const po::variables_map& vm, const std::string& kind) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord o, reg.Resolve(kind, vm["ref"].as<std::string>()));
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::Edge> edges, reg.EdgesFrom(o.digest));
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::AttestationRecord> attestations,
                         reg.Attestations(o.digest));
  // Dependencies that were revoked (objects or keys) flag this object.
  std::vector<std::string> revoked_dependencies;
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::KeyRecord> keys, reg.Keys());
  for (const registry::Edge& e : edges) {
    Result<registry::ObjectRecord> dst = reg.Get(e.dst);
    if (dst.ok() && dst->revoked_seq) revoked_dependencies.push_back(e.relation + " " + e.dst);
    for (const auto& k : keys) {
      if (k.key_id == e.dst && k.revoked_seq) {
        revoked_dependencies.push_back(e.relation + " key " + e.dst);
        break;
      }
    }
  }
  registry::Annotations annotations;
  if (o.kind == registry::kAdapterKind) {
    GRAFT_ASSIGN_OR_RETURN(annotations, reg.AdapterAnnotations(o.digest));
  }
  if (WantsJson(vm)) {
    Json out = o.ToJson();
    Json edge_json = Json::array();
    for (const auto& e : edges) edge_json.push_back({{"relation", e.relation}, {"dst", e.dst}});
    Json att_json = Json::array();
    for (const auto& a : attestations) att_json.push_back(a.ToJson());
    out["edges"] = edge_json;
    out["attestations"] = att_json;
    out["revoked_dependencies"] = revoked_dependencies;
    if (o.kind == registry::kAdapterKind) out.update(annotations.ToJson());
    PrintJson(out);
    return kExitOk;
  }
  Json info = o.Info();
  std::cout << o.kind << " sha256:" << o.digest << "\n"
            << "  labels:     " << Labels(o) << "\n"
            << "  registered: event " << o.created_seq << "\n";
  if (o.stage) std::cout << "  stage:      " << *o.stage << "\n";
  if (o.kind == registry::kAdapterKind) {
    std::cout << "  attested:   " << (o.attested ? "yes" : "NO (registered with --unattested)")
              << "\n"
              << "  r / alpha:  " << info.value("r", 0) << " / " << info.value("lora_alpha", 0.0)
              << "\n"
              << "  modules:    " << info.value("lora_modules", 0) << " ("
              << info.value("lora_parameters", 0) << " LoRA parameters)\n";
    if (!info["unknown_config_keys"].empty()) {
      std::cout << "  unknown adapter_config keys: " << info["unknown_config_keys"].dump() << "\n";
    }
    if (info["provenance"].is_object()) {
      std::cout << "  run:        " << Printable(info["provenance"].value("run_id", ""))
                << " started " << Printable(info["provenance"].value("started_on", "")) << "\n";
    }
    PrintAnnotations(annotations);
  }
  if (o.kind == registry::kBaseKind) {
    std::cout << "  model_type: " << Printable(info.value("model_type", "")) << "\n"
              << "  parameters: " << info.value("parameters", 0) << "\n";
  }
  if (o.kind == registry::kDatasetKind) {
    std::cout << "  records:    " << info.value("records", 0) << " (" << info.value("size", 0)
              << " bytes, " << Printable(info.value("filename", "")) << ")\n";
  }
  if (o.revoked_seq) {
    std::cout << "  REVOKED at event " << *o.revoked_seq << ": " << Printable(o.revoke_reason)
              << "\n";
  }
  for (const auto& d : revoked_dependencies)
    std::cout << "  FLAGGED: depends on revoked " << d << "\n";
  for (const auto& e : edges) std::cout << "  " << e.relation << " -> " << e.dst << "\n";
  for (const auto& a : attestations) {
    std::cout << "  attestation " << a.kind << " sha256:" << a.digest << " (event " << a.seq
              << ")\n";
  }
  return kExitOk;
}

Command ListObjectsCommand(const std::string& group, const std::string& kind,
                           const std::string& summary) {
  return {
      .group = group,
      .verb = "list",
      .summary = summary,
      .usage = "",
      .define =
          [](po::options_description& options, po::positional_options_description&) {
            options.add_options()("name", po::value<std::string>(), "only this name");
            AddRegistryOption(options);
            AddJsonOption(options);
          },
      .run =
          [kind](const po::variables_map& vm) {
            registry::ObjectFilter filter{.kind = kind};
            if (vm.count("name")) filter.name = vm["name"].as<std::string>();
            return RunListObjects(vm, filter);
          },
  };
}

Command ShowObjectCommand(const std::string& group, const std::string& kind,
                          const std::string& summary) {
  return {
      .group = group,
      .verb = "show",
      .summary = summary,
      .usage = "REF",
      .define = DefineRefOptions,
      .run = [kind](const po::variables_map& vm) { return RunShowObject(vm, kind); },
  };
}

Command ExportObjectCommand(const std::string& group, const std::string& kind,
                            const std::string& summary) {
  return {
      .group = group,
      .verb = "export",
      .summary = summary,
      .usage = "REF --out DIR",
      .define =
          [](po::options_description& options, po::positional_options_description& positional) {
            DefineRefOptions(options, positional);
            options.add_options()("out", po::value<std::string>()->required(),
                                  "output directory (absent or empty)");
          },
      .run = [kind](const po::variables_map& vm) -> Result<int> {
        GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
        GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord record,
                               reg.Resolve(kind, vm["ref"].as<std::string>()));
        const std::string out = vm["out"].as<std::string>();
        GRAFT_RETURN_IF_ERROR(reg.ExportFiles(record, out));
        if (WantsJson(vm)) {
          PrintJson({{"digest", "sha256:" + record.digest}, {"out", out}, {"verified", true}});
        } else {
          std::cout << "exported sha256:" << record.digest << " to " << out
                    << " (every file digest and the root digest re-verified)\n";
        }
        return kExitOk;
      },
  };
}

}  // namespace graft::cli
