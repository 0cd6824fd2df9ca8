// SPDX-License-Identifier: BSD-3-Clause
#include "Exposition.h"

#include <prometheus/text_serializer.h>

#include <cstdlib>
#include <ostream>
#include <streambuf>
#include <utility>

namespace probemon::tool {
namespace {

// An output stream buffer that appends to a string.
class Appender : public std::streambuf {
 public:
  explicit Appender(std::string& text) : text_(text) {}

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof()))
      text_.push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    text_.append(s, static_cast<std::size_t>(n));
    return n;
  }

 private:
  std::string& text_;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// One media range of an Accept header: the format it selects (none if it
// names neither format) and its weight.
struct Choice {
  bool acceptable = false;
  Format format = Format::kText;
  double q = 1;
};

Choice parseMediaRange(std::string_view range) {
  const auto semicolon = range.find(';');
  const std::string_view type = trim(range.substr(0, semicolon));
  std::string_view version;
  Choice choice;
  for (auto rest = semicolon == std::string_view::npos ? std::string_view()
                                                       : range.substr(semicolon + 1);
       !rest.empty();) {
    const auto end = rest.find(';');
    const std::string_view param = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const auto equals = param.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view name = trim(param.substr(0, equals));
    const std::string_view value = trim(param.substr(equals + 1));
    if (equalsIgnoringCase(name, "q")) choice.q = std::strtod(std::string(value).c_str(), nullptr);
    if (equalsIgnoringCase(name, "version")) version = value;
  }
  if (equalsIgnoringCase(type, "application/openmetrics-text")) {
    choice.acceptable = version.empty() || version == "1.0.0";
    choice.format = Format::kOpenMetrics;
  } else if (equalsIgnoringCase(type, "text/plain")) {
    choice.acceptable = version.empty() || version == "0.0.4";
  } else {
    choice.acceptable = equalsIgnoringCase(type, "*/*") || equalsIgnoringCase(type, "text/*");
  }
  choice.acceptable = choice.acceptable && choice.q > 0;
  return choice;
}

// "# HELP name_total ..." and "# TYPE name_total counter" at `start` of
// `text` lose the suffix: an OpenMetrics counter family is named without it.
void nameCounterFamily(std::string& text, std::size_t start,
                       const prometheus::MetricFamily& family) {
  constexpr std::string_view kSuffix = "_total";
  if (!std::string_view(family.name).ends_with(kSuffix)) return;
  std::size_t line = start;
  for (int header = family.help.empty() ? 1 : 2; header > 0; --header) {
    // "# HELP " and "# TYPE " are 7 bytes; the name follows.
    text.erase(line + 7 + family.name.size() - kSuffix.size(), kSuffix.size());
    line = text.find('\n', line) + 1;
  }
}

}  // namespace

Format negotiate(const char* accept) {
  if (accept == nullptr) return Format::kText;
  Choice best;
  for (std::string_view rest = accept; !rest.empty();) {
    const auto comma = rest.find(',');
    const Choice choice = parseMediaRange(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    // The first of equal weights wins, as the scraper listed its preference.
    if (choice.acceptable && (!best.acceptable || choice.q > best.q)) best = choice;
  }
  return best.acceptable ? best.format : Format::kText;
}

const char* contentType(Format format) {
  return format == Format::kOpenMetrics
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

std::string_view Exposition::write(std::vector<prometheus::MetricFamily> families, Format format) {
  text_.clear();
  Appender appender(text_);
  std::ostream out(&appender);
  const prometheus::TextSerializer serializer;
  // One family at a time, moved in and out, so a counter's header lines
  // are found where its text starts.
  std::vector<prometheus::MetricFamily> one(1);
  for (auto& family : families) {
    const std::size_t start = text_.size();
    one.front() = std::move(family);
    serializer.Serialize(out, one);
    if (format == Format::kOpenMetrics && one.front().type == prometheus::MetricType::Counter) {
      nameCounterFamily(text_, start, one.front());
    }
  }
  if (format == Format::kOpenMetrics) text_ += "# EOF\n";
  return text_;
}

}  // namespace probemon::tool
