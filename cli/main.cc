// Entry point of the graft command; the commands live in cli/*_cmd.cc.
#include "cli/command.h"

int main(int argc, char** argv) { return graft::cli::RunMain(argc, argv); }
