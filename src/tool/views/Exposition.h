// SPDX-License-Identifier: BSD-3-Clause
// The text of a scrape: metric families written by prometheus-cpp's
// TextSerializer, as Prometheus text format 0.0.4 or, when the scraper asks
// for it, OpenMetrics 1.0.
//
// prometheus-cpp 1.0.1 writes only 0.0.4. For the families serve exposes
// (counters, gauges, histograms, no NaN, HELP texts without escapes) an
// OpenMetrics text differs from it in three places, and only those are
// changed: a counter family is named without its `_total` suffix in its
// HELP and TYPE lines (its samples keep it), the text ends with `# EOF`, and
// the content type says so. Everything else (label escaping, histogram
// samples, numbers) is the library's.
//
// The text is written into a buffer kept from one scrape to the next: on
// this VM a first touch of fresh memory costs 12-28 us per page, which made
// serializing into a new string per scrape several times slower
// (docs/performance.md, "probemon serve").
//
//   Exposition exposition;
//   const auto format = negotiate(accept_header);
//   std::string_view text = exposition.write(std::move(families), format);  // until the next write
//   ... send text with Content-Type contentType(format)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

namespace probemon::tool {

enum class Format { kText, kOpenMetrics };

// The format for an HTTP Accept header (may be null): OpenMetrics when the
// media range the scraper prefers most is application/openmetrics-text of
// version 1.0.0 or none; text 0.0.4 otherwise.
Format negotiate(const char* accept);
const char* contentType(Format format);

class Exposition {
 public:
  // The exposition of `families`, valid until the next call.
  std::string_view write(std::vector<prometheus::MetricFamily> families, Format format);

 private:
  std::string text_;  // its capacity serves every scrape
};

}  // namespace probemon::tool
