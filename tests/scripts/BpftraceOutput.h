// SPDX-License-Identifier: BSD-3-Clause
// Reads what bpftrace prints for its maps, so tests can check exact numbers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace probemon::test {

// Lines "@NAME[KEY]: VALUE" of map NAME, by KEY; a key printed more than
// once (interval reports) adds up. KEY is the text between the brackets, so
// a map keyed by several values gives "a, b"; a map without keys ("@NAME: 5")
// gives "".
std::map<std::string, std::int64_t> mapValues(std::string_view out, std::string_view name);

// Histograms "@NAME[KEY]:" followed by "[lo, hi)  N |@@@|" buckets: per KEY,
// the count in each bucket by its lower bound ("16K" is 16384), summed over
// repeated prints.
using Histogram = std::map<std::int64_t, std::int64_t>;
std::map<std::string, Histogram> histograms(std::string_view out, std::string_view name);

// The number of values in each KEY's histogram.
std::map<std::string, std::int64_t> histCounts(std::string_view out, std::string_view name);

}  // namespace probemon::test
