// SPDX-License-Identifier: BSD-3-Clause
#include "ServeTest.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>

#include "ToolTest.h"

namespace probemon::test {

Serve startServe(std::vector<std::string> args) {
  args.insert(args.begin(), "serve");
  args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  Serve serve{startTool(args), 0};
  std::smatch match;
  const auto line =
      serve.tool->waitForLine(std::regex("^Serving http://127\\.0\\.0\\.1:(\\d+)/metrics$"), 20s);
  if (!line || !waitAttached(*serve.tool)) {
    ADD_FAILURE() << "serve did not start: " << serve.tool->out();
    serve.tool.reset();
    return serve;
  }
  std::regex_search(*line, match, std::regex(":(\\d+)/"));
  serve.port = std::stoi(match[1]);
  return serve;
}

Samples samplesOf(const std::string& exposition) {
  Samples samples;
  std::size_t at = 0;
  while (at < exposition.size()) {
    std::size_t end = exposition.find('\n', at);
    if (end == std::string::npos) end = exposition.size();
    const std::string line = exposition.substr(at, end - at);
    at = end + 1;
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    samples[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return samples;
}

HttpResponse scrape(int port, const std::string& accept) {
  return httpGet(port, "/metrics", accept);
}

Samples scrapeUntil(int port, const std::function<bool(const Samples&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  Samples samples;
  for (;;) {
    const HttpResponse response = scrape(port);
    EXPECT_EQ(response.status, 200) << response.error << response.body;
    samples = samplesOf(response.body);
    if (response.status != 200 || done(samples) || std::chrono::steady_clock::now() > deadline) {
      return samples;
    }
    std::this_thread::sleep_for(50ms);
  }
}

double valueOf(const Samples& samples, const std::string& series) {
  const auto it = samples.find(series);
  return it == samples.end() ? -1 : it->second;
}

namespace {

// `text` in a fresh file under the test's temporary directory.
std::string writeTemp(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace

RunResult promtoolCheck(const std::string& exposition) {
  const std::string path = writeTemp("probemon-serve-metrics.txt", exposition);
  return run({"/bin/sh", "-c", "exec promtool check metrics < \"$0\"", path});
}

nlohmann::json pythonParse(const std::string& exposition, const std::string& format) {
  const std::string path = writeTemp("probemon-serve-metrics." + format, exposition);
  const RunResult result = run({"/usr/bin/python3", PARSE_EXPOSITION, format, path});
  if (result.status != 0) return {{"error", result.err}};
  return nlohmann::json::parse(result.out);
}

}  // namespace probemon::test
