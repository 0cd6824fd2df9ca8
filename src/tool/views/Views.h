// SPDX-License-Identifier: BSD-3-Clause
// The subcommands, one view each, in views/: each only renders what the
// loader (Session, Program and the programs' readers) gathers, and throws
// ToolError for what it cannot do.
#pragma once

#include "Options.h"

namespace probemon::tool {

void runList(const Options& options);
void runHist(const Options& options);
void runTop(const Options& options);
void runInflight(const Options& options);
void runTrace(const Options& options);
void runCounters(const Options& options);
void runServe(const Options& options);

// --interval for the live views, which refresh every second unless told.
inline double refreshInterval(const Options& options) { return options.interval_s.value_or(1.0); }

}  // namespace probemon::tool
