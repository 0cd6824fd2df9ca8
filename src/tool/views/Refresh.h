// SPDX-License-Identifier: BSD-3-Clause
// The end of one refresh of a live view (top, inflight, counters), the same
// in each: one JSON line {"time": now, <name>: records, "dropped": {...}},
// or, after the view's text table, its drops and a blank line. Flushed.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "Drops.h"

namespace probemon::tool {

// `extra`: more fields of the line, e.g. top's "interval_s".
void emitRefresh(const char* name, nlohmann::json records, const std::vector<Drop>& drops,
                 nlohmann::json extra = nlohmann::json::object());
void endTextRefresh(const std::vector<Drop>& drops);

}  // namespace probemon::tool
