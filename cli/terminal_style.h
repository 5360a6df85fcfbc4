// Terminal styling of verdicts: ANSI colours on a terminal, never with NO_COLOR set.
#pragma once

#include <string>
#include <string_view>

namespace graft::cli {

// Whether stdout is a terminal that may be coloured: not with NO_COLOR set (to anything but the
// empty string, https://no-color.org) or TERM=dumb.
bool ColourStdout();

// `text` with each whole word PASS (green), FAIL (red), INCONCLUSIVE (yellow) and PENDING (cyan)
// wrapped in ANSI colour codes.
std::string ColourVerdicts(std::string_view text);

}  // namespace graft::cli
