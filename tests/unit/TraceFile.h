// SPDX-License-Identifier: BSD-3-Clause
// Reading back what a Recording exported: the Chrome trace JSON parsed with
// nlohmann::json (which rejects anything that is not valid JSON and UTF-8),
// and its events grouped the way the tests check them.
#pragma once

#include <gtest/gtest.h>
#include <probemon/Recording.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace probemon::test {

// A trace's time in integer nanoseconds: exact, since the writer prints
// microseconds with three decimals.
inline std::int64_t nanos(const nlohmann::json& micros) {
  return std::llround(micros.get<double>() * 1000.0);
}

// One X event.
struct Span {
  std::string name;
  std::string cat;
  std::uint64_t tid;
  std::int64_t start;
  std::int64_t end;
  nlohmann::json args;
};

// A file under /tmp, removed at the end of the scope.
class TempPath {
 public:
  TempPath() {
    std::string pattern = ::testing::TempDir() + "probemon-trace-XXXXXX";
    const int fd = mkstemp(pattern.data());
    if (fd >= 0) close(fd);
    path_ = pattern;
  }
  ~TempPath() { std::remove(path_.c_str()); }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  const std::string& str() const { return path_; }

 private:
  std::string path_;
};

// Exports `recording` and parses it back.
inline nlohmann::json exportTrace(Recording& recording) {
  TempPath path;
  recording.exportChromeTrace(path.str());
  std::ifstream in(path.str());
  return nlohmann::json::parse(in);  // throws on invalid JSON or UTF-8
}

inline std::vector<nlohmann::json> eventsOfPhase(const nlohmann::json& trace,
                                                 const std::string& phase) {
  std::vector<nlohmann::json> out;
  for (const auto& e : trace.at("traceEvents")) {
    if (e.at("ph") == phase) out.push_back(e);
  }
  return out;
}

inline std::vector<Span> spans(const nlohmann::json& trace) {
  std::vector<Span> out;
  for (const auto& e : eventsOfPhase(trace, "X")) {
    const std::int64_t start = nanos(e.at("ts"));
    out.push_back({e.at("name"), e.at("cat"), e.at("tid"), start, start + nanos(e.at("dur")),
                   e.value("args", nlohmann::json::object())});
  }
  return out;
}

// Spans of category `cat`, counted by (name, tid).
inline std::map<std::pair<std::string, std::uint64_t>, int> countByNameAndThread(
    const std::vector<Span>& all, const std::string& cat = "wait") {
  std::map<std::pair<std::string, std::uint64_t>, int> counts;
  for (const Span& s : all) {
    if (s.cat == cat) ++counts[{s.name, s.tid}];
  }
  return counts;
}

}  // namespace probemon::test
