// SPDX-License-Identifier: BSD-3-Clause
#include "BpftraceOutput.h"

#include <regex>
#include <sstream>

namespace probemon::test {
namespace {

// "^NAME" + `rest`, NAME with regex metacharacters escaped. Built by
// appending: gcc 12 at -O3 takes `"^" + std::string` (an insert at 0) for
// an overlapping memcpy (a false -Werror=restrict, GCC bug 105329).
std::string pattern(std::string_view name, const char* rest) {
  std::string text = "^";
  text += std::regex_replace(std::string(name), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
  text += rest;
  return text;
}

// "16K" -> 16384: hist() labels its bounds with binary unit suffixes.
std::int64_t bound(const std::string& number, const std::string& unit) {
  const std::string units = "KMGTPE";
  const auto shift = unit.empty() ? 0 : 10 * (units.find(unit[0]) + 1);
  return std::stoll(number) << shift;
}

}  // namespace

std::map<std::string, std::int64_t> mapValues(std::string_view out, std::string_view name) {
  const std::regex line(pattern(name, R"((?:\[(.*)\])?: (-?\d+)$)"));
  std::map<std::string, std::int64_t> values;
  std::istringstream in{std::string(out)};
  std::smatch m;
  for (std::string text; std::getline(in, text);) {
    if (std::regex_match(text, m, line)) values[m[1]] += std::stoll(m[2]);
  }
  return values;
}

std::map<std::string, Histogram> histograms(std::string_view out, std::string_view name) {
  const std::regex header(pattern(name, R"((?:\[(.*)\])?: *$)"));
  // "[16K, 32K)    5 |@@  |", or "[1]    5 |@@  |" for the lowest buckets.
  const std::regex bucket(R"(^\[(-?\d+)([KMGTPE]?)(?:, [^\])]*)?[\])] +(\d+) \|)");
  std::map<std::string, Histogram> hists;
  std::istringstream in{std::string(out)};
  std::smatch m;
  Histogram* current = nullptr;
  for (std::string text; std::getline(in, text);) {
    if (std::regex_match(text, m, header)) {
      current = &hists[m[1]];
    } else if (current != nullptr && std::regex_search(text, m, bucket)) {
      (*current)[bound(m[1], m[2])] += std::stoll(m[3]);
    } else {
      current = nullptr;
    }
  }
  return hists;
}

std::map<std::string, std::int64_t> histCounts(std::string_view out, std::string_view name) {
  std::map<std::string, std::int64_t> counts;
  for (const auto& [key, hist] : histograms(out, name)) {
    auto& n = counts[key];
    for (const auto& [lo, count] : hist) n += count;
  }
  return counts;
}

}  // namespace probemon::test
