// SPDX-License-Identifier: BSD-3-Clause
#include "Exposition.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <streambuf>
#include <utility>

namespace probemon::tool {
namespace {

// An output stream buffer over a string kept between scrapes. Its put area
// is the string's whole length, so an insertion is a bounds check and a
// copy: the serializer inserts label values one character at a time, and
// appending each to the string (std::string::append per call) took 15 % of
// serve's CPU per scrape of 1,000 keys.
class TextBuffer : public std::streambuf {
 public:
  explicit TextBuffer(std::string& text) : text_(text) {
    text_.resize(std::max(text_.capacity(), kFirstSize));
    setp(text_.data(), text_.data() + text_.size());
  }
  std::size_t size() const { return static_cast<std::size_t>(pptr() - pbase()); }
  // Cuts the string to what was written.
  void finish() { text_.resize(size()); }

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    xsputn(&ch, 1);
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const auto count = static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(epptr() - pptr()) < count) grow(count);
    std::memcpy(pptr(), s, count);
    advance(count);
    return n;
  }

 private:
  static constexpr std::size_t kFirstSize = 64 * 1024;

  void grow(std::size_t more) {
    const std::size_t used = size();
    text_.resize(std::max(2 * text_.size(), used + more));
    setp(text_.data(), text_.data() + text_.size());
    advance(used);
  }
  // pbump() takes an int.
  void advance(std::size_t count) {
    for (; count > INT_MAX; count -= INT_MAX) pbump(INT_MAX);
    pbump(static_cast<int>(count));
  }

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
  TextBuffer buffer(text_);
  std::ostream out(&buffer);
  const prometheus::TextSerializer serializer;
  // One family at a time, moved in and out, so a counter's header lines
  // are found where its text starts; renamed once all is written, last
  // first, so the earlier starts stay valid.
  std::vector<prometheus::MetricFamily> one(1);
  std::vector<std::pair<std::size_t, prometheus::MetricFamily>> counters;
  for (auto& family : families) {
    const std::size_t start = buffer.size();
    one.front() = std::move(family);
    serializer.Serialize(out, one);
    if (format == Format::kOpenMetrics && one.front().type == prometheus::MetricType::Counter) {
      counters.emplace_back(start, std::move(one.front()));
    }
  }
  buffer.finish();
  for (auto counter = counters.rbegin(); counter != counters.rend(); ++counter) {
    nameCounterFamily(text_, counter->first, counter->second);
  }
  if (format == Format::kOpenMetrics) text_ += "# EOF\n";
  return text_;
}

}  // namespace probemon::tool
