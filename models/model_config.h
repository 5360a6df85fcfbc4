// ModelConfig for the models module: the reader lives in the torch-free formats target
// (formats/model_config.h), which the registry shares; models code names its types unqualified.
#pragma once

#include "formats/model_config.h"

namespace graft::models {

using formats::Arch;
using formats::ArchName;
using formats::ModelConfig;
using formats::ParseArch;

}  // namespace graft::models
