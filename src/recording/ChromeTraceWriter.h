// SPDX-License-Identifier: BSD-3-Clause
// A streaming writer of Chrome trace JSON (the "JSON Object Format" that
// Perfetto UI and chrome://tracing open): events are written to the file as
// they come, through a 1 MiB buffer, so a large recording is never held as
// one document in memory.
//
//   ChromeTraceWriter out(path);             // std::system_error if it cannot be created
//   out.processName(pid, "myapp");
//   out.threadName(pid, tid, "worker");
//   out.event(pid, result);                  // X, i or C by result.kind
//   out.finish(summary);                     // otherData; std::system_error on I/O errors
//
// Times are written in microseconds with the nanoseconds kept exactly as
// three decimals ("ts": 1234.567), from CLOCK_MONOTONIC, like
// `probemon trace --format chrome`, so the two can be loaded side by side.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <probemon/Result.h>

namespace probemon::detail {

// What the trace's otherData says about the recording.
struct TraceSummary {
  std::uint64_t max_events = 0;
  std::uint64_t events = 0;
  // Events not recorded, by cause; all listed, zero or not.
  std::vector<std::pair<std::string, std::uint64_t>> dropped;
  std::uint64_t clamped = 0;
  std::uint64_t open_at_stop = 0;

  std::uint64_t droppedTotal() const {
    std::uint64_t total = 0;
    for (const auto& [cause, count] : dropped) total += count;
    return total;
  }
};

class ChromeTraceWriter {
 public:
  explicit ChromeTraceWriter(const std::string& path);
  ~ChromeTraceWriter();
  ChromeTraceWriter(const ChromeTraceWriter&) = delete;
  ChromeTraceWriter& operator=(const ChromeTraceWriter&) = delete;

  void processName(std::uint64_t pid, std::string_view name);
  void threadName(std::uint64_t pid, std::uint64_t tid, std::string_view name);
  void event(std::uint64_t pid, const Result& result);
  // A process-wide instant at `t` saying how many events were dropped, so
  // the loss shows on the timeline too.
  void droppedMarker(std::uint64_t pid, time_t t, const TraceSummary& summary);
  // Ends the document and closes the file.
  void finish(const TraceSummary& summary);

 private:
  void nameMetadata(const char* which, std::uint64_t pid, std::uint64_t tid, std::string_view name);
  void droppedObject(const TraceSummary& summary);
  void beginEvent(const char* phase, std::string_view name, std::uint64_t pid);
  void field(const char* key, std::uint64_t value);
  void timeField(const char* key, time_t ns);
  void stringField(const char* key, std::string_view value);
  void endEvent();
  void flushIfFull();
  void flush();
  void removePartial() const;

  const std::string path_;
  std::FILE* file_;
  bool regular_file_ = false;
  std::string buffer_;
  bool first_event_ = true;
};

}  // namespace probemon::detail
