// SPDX-License-Identifier: BSD-3-Clause
// The streaming Chrome trace writer (ChromeTraceWriter.h).
#include "ChromeTraceWriter.h"

#include <cerrno>
#include <cstdio>
#include <system_error>

#include <sys/stat.h>

#include "escaping/Escaping.h"

namespace probemon::detail {
namespace {

constexpr std::size_t kFlushBytes = std::size_t{1} << 20;

// A std::system_error, so callers can tell the cause by its errno (the
// Python module raises FileNotFoundError, PermissionError, ...); what()
// reads "probemon: cannot write the trace to 'PATH': REASON".
std::system_error writeError(const std::string& path, int error) {
  return {error, std::generic_category(), "probemon: cannot write the trace to '" + path + "'"};
}

// Nanoseconds as microseconds with exactly three decimals, without going
// through a double.
void appendMicros(std::string& out, time_t ns) {
  if (ns < 0) {
    out.push_back('-');
    ns = -ns;
  }
  out.append(std::to_string(ns / 1000));
  const auto frac = static_cast<int>(ns % 1000);
  out.append({'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
              static_cast<char>('0' + frac % 10)});
}

const char* categoryOf(Result::Kind kind) {
  switch (kind) {
    case Result::Kind::PythonCall:
      return "python";
    case Result::Kind::CCall:
      return "c";
    case Result::Kind::Wait:
      return "wait";
    case Result::Kind::GC:
      return "gc";
    case Result::Kind::Instant:
      return "instant";
    case Result::Kind::CounterSample:
      return "counter";
  }
  return "unknown";
}

}  // namespace

ChromeTraceWriter::ChromeTraceWriter(const std::string& path)
    : path_(path), file_(std::fopen(path.c_str(), "w")) {
  if (file_ == nullptr) throw writeError(path_, errno);
  struct stat st {};
  regular_file_ = fstat(fileno(file_), &st) == 0 && S_ISREG(st.st_mode);
  buffer_.reserve(kFlushBytes + 4096);
  buffer_.append("{\"traceEvents\":[\n");
}

ChromeTraceWriter::~ChromeTraceWriter() {
  if (file_ != nullptr) {  // not finish()ed: an exception is on its way
    std::fclose(file_);
    removePartial();
  }
}

void ChromeTraceWriter::beginEvent(const char* phase, std::string_view name, std::uint64_t pid) {
  if (!first_event_) buffer_.append(",\n");
  first_event_ = false;
  buffer_.append("{\"ph\":\"").append(phase).append("\",\"name\":");
  appendJsonString(buffer_, name);
  field("pid", pid);
}

void ChromeTraceWriter::field(const char* key, std::uint64_t value) {
  buffer_.append(",\"").append(key).append("\":").append(std::to_string(value));
}

void ChromeTraceWriter::timeField(const char* key, time_t ns) {
  buffer_.append(",\"").append(key).append("\":");
  appendMicros(buffer_, ns);
}

void ChromeTraceWriter::stringField(const char* key, std::string_view value) {
  buffer_.append(",\"").append(key).append("\":");
  appendJsonString(buffer_, value);
}

void ChromeTraceWriter::endEvent() {
  buffer_.push_back('}');
  flushIfFull();
}

void ChromeTraceWriter::processName(std::uint64_t pid, std::string_view name) {
  nameMetadata("process_name", pid, 0, name);
}

void ChromeTraceWriter::threadName(std::uint64_t pid, std::uint64_t tid, std::string_view name) {
  nameMetadata("thread_name", pid, tid, name);
}

void ChromeTraceWriter::nameMetadata(const char* which, std::uint64_t pid, std::uint64_t tid,
                                     std::string_view name) {
  beginEvent("M", which, pid);
  field("tid", tid);
  buffer_.append(",\"args\":{\"name\":");
  appendJsonString(buffer_, name);
  buffer_.push_back('}');
  endEvent();
}

void ChromeTraceWriter::event(std::uint64_t pid, const Result& result) {
  const bool span = result.isSpan();
  const bool counter = result.kind == Result::Kind::CounterSample;
  beginEvent(span ? "X" : counter ? "C" : "i", result.name, pid);
  stringField("cat", categoryOf(result.kind));
  if (!counter) field("tid", result.tid);
  timeField("ts", result.start_ns);
  if (span) timeField("dur", result.durationNs());
  if (result.kind == Result::Kind::Instant) buffer_.append(",\"s\":\"t\"");
  if (counter) {
    buffer_.append(",\"args\":{\"value\":").append(std::to_string(result.value)).push_back('}');
  } else if (result.open_at_stop || result.clamped || !result.location.empty()) {
    buffer_.append(",\"args\":{");
    const char* separator = "";
    if (!result.location.empty()) {
      buffer_.append("\"location\":");
      appendJsonString(buffer_, result.location);
      separator = ",";
    }
    if (result.open_at_stop) {
      buffer_.append(separator).append("\"open_at_stop\":true");
      separator = ",";
    }
    if (result.clamped) buffer_.append(separator).append("\"clamped\":true");
    buffer_.push_back('}');
  }
  endEvent();
}

void ChromeTraceWriter::droppedMarker(std::uint64_t pid, time_t t, const TraceSummary& summary) {
  beginEvent("i", "probemon: " + std::to_string(summary.droppedTotal()) + " events dropped", pid);
  stringField("cat", "probemon");
  buffer_.append(",\"s\":\"p\"");
  timeField("ts", t);
  buffer_.append(",\"args\":");
  droppedObject(summary);
  endEvent();
}

void ChromeTraceWriter::finish(const TraceSummary& summary) {
  buffer_.append("\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"producer\":\"probemon\"");
  buffer_.append(",\"clock\":\"CLOCK_MONOTONIC\"");
  field("max_events", summary.max_events);
  field("events", summary.events);
  field("clamped", summary.clamped);
  field("open_at_stop", summary.open_at_stop);
  buffer_.append(",\"dropped\":");
  droppedObject(summary);
  field("dropped_total", summary.droppedTotal());
  buffer_.append("}}\n");
  flush();
  std::FILE* file = std::exchange(file_, nullptr);
  if (std::fclose(file) != 0) {
    const int error = errno;
    removePartial();
    throw writeError(path_, error);
  }
}

void ChromeTraceWriter::droppedObject(const TraceSummary& summary) {
  const char* separator = "{";
  for (const auto& [cause, count] : summary.dropped) {
    buffer_.append(separator);
    appendJsonString(buffer_, cause);
    buffer_.append(":").append(std::to_string(count));
    separator = ",";
  }
  buffer_.append(summary.dropped.empty() ? "{}" : "}");
}

void ChromeTraceWriter::removePartial() const {
  // Half a document is no trace; but a pipe or /dev/null is left alone.
  if (regular_file_) std::remove(path_.c_str());
}

void ChromeTraceWriter::flushIfFull() {
  if (buffer_.size() >= kFlushBytes) flush();
}

void ChromeTraceWriter::flush() {
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size() ||
      std::fflush(file_) != 0) {
    throw writeError(path_, errno);
  }
  buffer_.clear();
}

}  // namespace probemon::detail
