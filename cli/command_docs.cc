#include "cli/command_docs.h"

#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "core/file_util.h"

namespace graft::cli {
namespace {

namespace fs = std::filesystem;

struct OptionDoc {
  std::string long_name;   // "--preset"
  std::string short_name;  // "-p", or empty
  std::string parameter;   // "arg (=tiny)", or empty for a switch
  std::string description;
};

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return text;
}

std::vector<OptionDoc> OptionsOf(const Command& c) {
  po::options_description options;
  po::positional_options_description positional;
  DefineOptions(c, options, positional);
  std::vector<OptionDoc> out;
  for (const auto& option : options.options()) {
    OptionDoc doc;
    doc.long_name = "--" + option->long_name();
    std::string short_name =
        option->canonical_display_name(po::command_line_style::allow_dash_for_short);
    if (short_name.size() == 2 && short_name[0] == '-') doc.short_name = short_name;
    doc.parameter = option->format_parameter();
    doc.description = OneLine(option->description());
    out.push_back(std::move(doc));
  }
  return out;
}

// Verb-less commands are a group's default ("graft gate ADAPTER", "graft lineage REF").
bool HasVerbs(const std::vector<const Command*>& commands) {
  for (const Command* c : commands) {
    if (!c->verb.empty()) return true;
  }
  return false;
}

const Command* DefaultCommand(const std::vector<const Command*>& commands) {
  for (const Command* c : commands) {
    if (c->verb.empty()) return c;
  }
  return nullptr;
}

// roff text: backslashes and hyphens escaped, a leading '.' or '\'' made literal.
std::string Roff(const std::string& text) {
  std::string out;
  for (char c : OneLine(text)) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string ManHeader(const std::string& name, const std::string& summary) {
  std::string upper;
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return ".TH " + upper + " 1 \"\" \"graft " GRAFT_VERSION "\" \"graft manual\"\n.SH NAME\n" +
         Roff(name) + " \\- " + Roff(summary) + "\n";
}

std::string Words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::vector<std::string> OptionWords(const Command& c) {
  std::vector<std::string> words;
  for (const OptionDoc& o : OptionsOf(c)) {
    words.push_back(o.long_name);
    if (!o.short_name.empty()) words.push_back(o.short_name);
  }
  return words;
}

std::vector<std::string> VerbsOf(const std::vector<const Command*>& commands) {
  std::vector<std::string> verbs;
  for (const Command* c : commands) {
    if (!c->verb.empty()) verbs.push_back(c->verb);
  }
  return verbs;
}

// A zsh single-quoted word.
std::string ZshQuote(const std::string& text) {
  std::string out = "'";
  for (char c : OneLine(text)) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// "name:description" for _describe (a colon in the name is escaped).
std::string ZshItem(const std::string& name, const std::string& description) {
  std::string escaped;
  for (char c : name) escaped += c == ':' ? std::string("\\:") : std::string(1, c);
  return ZshQuote(escaped + ":" + description);
}

}  // namespace

std::string RenderTopManPage() {
  std::string out = ManHeader("graft", "registry and evaluation harness for LoRA adapters");
  out +=
      ".SH SYNOPSIS\n.B graft\n[\\-\\-quiet] \\fIgroup\\fR [\\fIverb\\fR] [\\fIoptions\\fR]\n"
      ".br\n.B graft help\n\\fIgroup\\fR [\\fIverb\\fR]\n"
      ".SH DESCRIPTION\nEach group has its own page, \\fBgraft\\-\\fIgroup\\fR(1).\n"
      ".SH COMMANDS\n";
  for (const std::string& group : CommandGroups()) {
    out += ".TP\n.BR graft\\-" + Roff(group) + " (1)\n" + Roff(GroupSummary(group)) + "\n";
  }
  out +=
      ".SH OPTIONS\n.TP\n.B \\-\\-help\nThis list (also \\fBgraft help\\fR).\n"
      ".TP\n.B \\-\\-version\ngraft's version and those of the libraries it links.\n"
      ".TP\n.B \\-\\-quiet\nNo progress display; the gate leaves out its Markdown summary.\n"
      ".SH EXIT STATUS\n0 ok, 1 internal error, 2 invalid input, 10 gate failed, 11 gate "
      "inconclusive, 12 verification failed.\n"
      ".SH ENVIRONMENT\n.TP\n.B GRAFT_REGISTRY\nThe registry folder when \\-\\-registry is not "
      "given (default ./.graft).\n"
      ".TP\n.B GITHUB_ACTIONS, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY\nOn GitHub Actions the gate "
      "prints annotations, appends step outputs and appends its summary.\n"
      ".TP\n.B NO_COLOR\nWhen set, verdicts are not coloured on a terminal.\n";
  return out;
}

std::string RenderGroupManPage(const std::string& group) {
  const auto commands = CommandsOf(group);
  std::string out = ManHeader("graft-" + group, GroupSummary(group));
  out += ".SH SYNOPSIS\n";
  for (const Command* c : commands) {
    out += ".B graft " + Roff(CommandName(*c)) + "\n" +
           (c->usage.empty() ? "" : Roff(c->usage) + " ") + "[options]\n.br\n";
  }
  out += ".SH COMMANDS\n";
  for (const Command* c : commands) {
    out += ".SS \"graft " + Roff(CommandName(*c)) + "\"\n" + Roff(c->summary) + "\n";
    for (const OptionDoc& o : OptionsOf(*c)) {
      out +=
          ".TP\n.B " + Roff(o.long_name) + (o.short_name.empty() ? "" : ", " + Roff(o.short_name));
      out += o.parameter.empty() ? "\n" : " \\fR" + Roff(o.parameter) + "\n";
      out += Roff(o.description) + "\n";
    }
  }
  out += ".SH SEE ALSO\n.BR graft (1)\n";
  return out;
}

std::string RenderBashCompletion() {
  std::string out =
      "# bash completion for graft (generated by 'graft __completion bash')\n"
      "_graft() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} verbs=\"\" options=\"\" default=0\n"
      "  if ((COMP_CWORD == 1)); then\n"
      "    COMPREPLY=($(compgen -W \"" +
      Words(CommandGroups()) +
      " help --help --version --quiet\" -- \"$cur\"))\n"
      "    return 0\n"
      "  fi\n"
      "  case \"${COMP_WORDS[1]}\" in\n";
  for (const std::string& group : CommandGroups()) {
    const auto commands = CommandsOf(group);
    out += "    " + group + ")\n";
    if (HasVerbs(commands)) {
      out += "      verbs=\"" + Words(VerbsOf(commands)) + "\"\n";
      out += "      case \"${COMP_WORDS[2]}\" in\n";
      for (const Command* c : commands) {
        if (c->verb.empty()) continue;
        out += "        " + c->verb + ") options=\"" + Words(OptionWords(*c)) + "\" ;;\n";
      }
      if (const Command* d = DefaultCommand(commands)) {
        out += "        *) default=1 options=\"" + Words(OptionWords(*d)) + "\" ;;\n";
      }
      out += "      esac\n";
    } else {
      out += "      options=\"" + Words(OptionWords(*commands.front())) + "\"\n";
    }
    out += "      ;;\n";
  }
  out +=
      "  esac\n"
      "  if ((COMP_CWORD == 2)) && [[ -n $verbs && $cur != -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$verbs\" -- \"$cur\"))\n"
      "    ((default)) && COMPREPLY+=($(compgen -f -- \"$cur\"))\n"
      "  elif [[ $cur == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$options\" -- \"$cur\"))\n"
      "  else\n"
      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "  fi\n"
      "  return 0\n"
      "}\n"
      "complete -o filenames -F _graft graft\n";
  return out;
}

std::string RenderZshCompletion() {
  std::string out =
      "#compdef graft\n"
      "# zsh completion for graft (generated by 'graft __completion zsh')\n"
      "_graft() {\n"
      "  local -a groups verbs options\n"
      "  local default=0\n"
      "  groups=(\n";
  for (const std::string& group : CommandGroups()) {
    out += "    " + ZshItem(group, GroupSummary(group)) + "\n";
  }
  out +=
      "  )\n"
      "  if (( CURRENT == 2 )); then\n"
      "    _describe -t commands 'graft command' groups\n"
      "    return\n"
      "  fi\n"
      "  case ${words[2]} in\n";
  auto option_items = [](const Command& c) {
    std::string items;
    for (const OptionDoc& o : OptionsOf(c)) {
      std::string description = o.description + (o.parameter.empty() ? "" : " " + o.parameter);
      items += " " + ZshItem(o.long_name, description);
      if (!o.short_name.empty()) items += " " + ZshItem(o.short_name, description);
    }
    return items;
  };
  for (const std::string& group : CommandGroups()) {
    const auto commands = CommandsOf(group);
    out += "    " + group + ")\n";
    if (HasVerbs(commands)) {
      out += "      verbs=(";
      for (const Command* c : commands) {
        if (!c->verb.empty()) out += " " + ZshItem(c->verb, c->summary);
      }
      out += " )\n      case ${words[3]} in\n";
      for (const Command* c : commands) {
        if (c->verb.empty()) continue;
        out += "        " + c->verb + ") options=(" + option_items(*c) + " ) ;;\n";
      }
      if (const Command* d = DefaultCommand(commands)) {
        out += "        *) default=1; options=(" + option_items(*d) + " ) ;;\n";
      }
      out += "      esac\n";
    } else {
      out += "      options=(" + option_items(*commands.front()) + " )\n";
    }
    out += "      ;;\n";
  }
  out +=
      "  esac\n"
      "  if (( CURRENT == 3 && ${#verbs} )) && [[ $PREFIX != -* ]]; then\n"
      "    _describe -t verbs 'verb' verbs\n"
      "    (( default )) && _files\n"
      "  elif [[ $PREFIX == -* ]]; then\n"
      "    _describe -t options 'option' options\n"
      "  else\n"
      "    _files\n"
      "  fi\n"
      "}\n"
      "_graft \"$@\"\n";
  return out;
}

int RunDocsGenerator(const std::vector<std::string>& args) {
  if (args[0] == "__man" && args.size() == 2) {
    const fs::path dir = args[1];
    Status status = WriteFileAtomic(dir / "graft.1", RenderTopManPage());
    for (const std::string& group : CommandGroups()) {
      if (!status.ok()) break;
      status = WriteFileAtomic(dir / ("graft-" + group + ".1"), RenderGroupManPage(group));
    }
    if (!status.ok()) {
      std::cerr << "graft: " << status.message() << "\n";
      return ExitCodeFor(status.kind());
    }
    return kExitOk;
  }
  if (args[0] == "__completion" && (args.size() == 2 || args.size() == 3) &&
      (args[1] == "bash" || args[1] == "zsh")) {
    const std::string script = args[1] == "bash" ? RenderBashCompletion() : RenderZshCompletion();
    if (args.size() == 2) {
      std::cout << script;
      return kExitOk;
    }
    Status status = WriteFileAtomic(args[2], script);
    if (!status.ok()) std::cerr << "graft: " << status.message() << "\n";
    return status.ok() ? kExitOk : ExitCodeFor(status.kind());
  }
  std::cerr << "graft: usage: graft __man DIR | graft __completion bash|zsh [FILE]\n";
  return kExitInvalidInput;
}

}  // namespace graft::cli
