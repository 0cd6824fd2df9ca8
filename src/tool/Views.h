// The subcommands. Each returns the exit status or throws ToolError.
#pragma once

#include "Options.h"

namespace probemon::tool {

int runList(const Options& options);
int runHist(const Options& options);
int runTop(const Options& options);
int runInflight(const Options& options);
int runTrace(const Options& options);
int runCounters(const Options& options);

}  // namespace probemon::tool
