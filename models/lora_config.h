// LoraConfig for the models module: the reader lives in the torch-free formats target
// (formats/lora_config.h), which the registry shares; models code names its types unqualified.
#pragma once

#include "formats/lora_config.h"

namespace graft::models {

using formats::LoraConfig;
using formats::LoraInit;
using formats::TargetModules;

}  // namespace graft::models
