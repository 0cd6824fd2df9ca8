// SPDX-License-Identifier: BSD-3-Clause
// Helpers for the tests of probemon serve: start it on a free port, scrape
// it, read the samples of an exposition, check one with promtool and with
// python3-prometheus-client's parsers.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "HttpGet.h"
#include "Subprocess.h"

namespace probemon::test {

// Prometheus 2.42's Accept header: OpenMetrics first.
inline constexpr const char* kPrometheusAccept =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

struct Serve {
  std::unique_ptr<Subprocess> tool;  // stderr merged into stdout
  int port = 0;
};

// Starts `probemon serve ARGS... --listen 127.0.0.1:0` and returns once it
// listens and every probe is attached (the tool is null if it did not).
Serve startServe(std::vector<std::string> args);

// The samples of an exposition (either format) by series, as written:
// `name{labels}` -> value.
using Samples = std::map<std::string, double>;
Samples samplesOf(const std::string& exposition);

// GET /metrics (text format unless `accept` says otherwise).
HttpResponse scrape(int port, const std::string& accept = "");

// Scrapes until `done` holds (at most 30 s) and returns the last samples;
// every scrape must succeed.
Samples scrapeUntil(int port, const std::function<bool(const Samples&)>& done);

// The value of `series` in `samples`, or -1 if it is missing.
double valueOf(const Samples& samples, const std::string& series);

// `promtool check metrics` on a text exposition: its exit status and output.
RunResult promtoolCheck(const std::string& exposition);

// python3-prometheus-client's parser of `format` ("text" or "openmetrics")
// on `exposition`: {"families": [[name, type]...], "samples": [[name,
// labels, value]...]}, or {"error": "..."}.
nlohmann::json pythonParse(const std::string& exposition, const std::string& format);

}  // namespace probemon::test
