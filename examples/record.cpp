// SPDX-License-Identifier: BSD-3-Clause
// probemon-record: records a small workload in-process and writes a
// Chrome/Perfetto trace of it, the C++ recording API end to end
// (<probemon/Recording.h>, docs/api.md).
//
//   probemon-record trace.json [--ms 300] [--max-events N]
//
// Then open trace.json in https://ui.perfetto.dev or chrome://tracing: one
// track per worker thread with its `example.batch` waits and the
// `example.lock` and `example.io` waits nested in them, a `phase` instant
// on the main thread, and an `example.queue.depth` counter track.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

#include <probemon/DynamicCounter.h>
#include <probemon/Recording.h>
#include <probemon/WaitCounter.h>
#include <CLI/CLI.hpp>

namespace {

using namespace std::chrono_literals;

std::mutex g_lock;
std::atomic<std::int64_t> g_queued{0};

void worker(int index, const std::atomic<bool>& stop) {
  pthread_setname_np(pthread_self(), ("worker-" + std::to_string(index)).c_str());
  while (!stop.load()) {
    PROBEMON_STATIC_SCOPED_WAIT_COUNTER(example.batch);
    g_queued.fetch_add(1);
    {
      PROBEMON_STATIC_SCOPED_WAIT_COUNTER(example.lock);
      std::lock_guard lock(g_lock);
      std::this_thread::sleep_for(100us);
    }
    PROBEMON_WITH_WAIT_COUNTER(example.io, std::this_thread::sleep_for(300us));
    g_queued.fetch_sub(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Records a small workload in-process and writes a Chrome/Perfetto trace."};
  std::string path;
  int milliseconds = 300;
  probemon::RecordingOptions options;
  app.add_option("trace", path, "where to write the trace JSON")->required();
  app.add_option("--ms", milliseconds, "how long to record")->check(CLI::Range(1, 600'000));
  app.add_option("--max-events", options.max_events, "cap on stored events")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  CLI11_PARSE(app, argc, argv);

  probemon::DynamicCounter depth("example.queue.depth", [] { return g_queued.load(); });
  options.counter_interval = 5ms;
  probemon::Recording recording(options);
  recording.start();

  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int i = 0; i < 3; ++i) workers.emplace_back(worker, i, std::cref(stop));
  recording.instant("phase: workers started");
  std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
  stop.store(true);
  for (auto& t : workers) t.join();

  recording.stop();
  try {
    recording.exportChromeTrace(path);
  } catch (const std::exception& e) {
    std::cerr << e.what() << '\n';
    return 1;
  }
  const probemon::RecordingDrops dropped = recording.dropped();
  std::cout << "wrote " << recording.events().size() << " events to " << path;
  if (dropped.total() != 0) {
    std::cout << " (" << dropped.total() << " dropped; the trace's otherData says why)";
  }
  std::cout << '\n';
  return 0;
}
