#include "cli/terminal_style.h"

#include <unistd.h>

#include <cstdlib>
#include <regex>

namespace graft::cli {

bool ColourStdout() {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string_view(term) == "dumb") return false;
  return ::isatty(STDOUT_FILENO) == 1;
}

std::string ColourVerdicts(std::string_view text) {
  static const std::regex kVerdict(R"(\b(PASS|FAIL|INCONCLUSIVE|PENDING)\b)");
  std::string out;
  std::string input(text);
  size_t last = 0;
  for (auto it = std::sregex_iterator(input.begin(), input.end(), kVerdict);
       it != std::sregex_iterator(); ++it) {
    const std::string word = it->str(1);
    const char* colour = word == "PASS"      ? "32"
                         : word == "FAIL"    ? "31"
                         : word == "PENDING" ? "36"
                                             : "33";
    out.append(input, last, it->position(0) - last);
    out += std::string("\033[1;") + colour + "m" + word + "\033[0m";
    last = it->position(0) + it->length(0);
  }
  out.append(input, last, std::string::npos);
  return out;
}

}  // namespace graft::cli
