// The built-in reader of DynamicCounters behind the `dynamic__value` probe.
//
// It keeps every live counter's callback and, from a thread that exists only
// while at least one counter is live, checks the probe's semaphore once per
// interval (PROBEMON_SAMPLE_MS, default 1000 ms); while a tracer is attached it
// reads each counter and fires dynamic__value with the value. Detached, its
// cost is one wake-up per interval in processes that have DynamicCounters.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include <probemon/DynamicCounter.h>

namespace probemon::detail {

class ProbeSampler {
 public:
  ProbeSampler();

  // `key_id` is the key's probe ABI id.
  void add(std::string_view key, std::uint64_t key_id, DynamicCounter::Callback callback);
  // Returns after any sample of this counter in progress has finished.
  void remove(std::string_view key);

  // Reads every live counter now and fires dynamic__value for each, if the
  // probe is attached. Returns the number of probes fired.
  std::size_t sampleOnce();

  // In a child of fork(), which has none of the parent's threads: forgets
  // the parent's sampling thread instead of joining it, and the lock and
  // condition variable it used (a notify would wait forever for the
  // missing waiter, the lock it may have held while sampling would never
  // be released). The next counter starts a new thread.
  void forgetThreadAfterFork() noexcept;

 private:
  struct Counter {
    std::uint64_t key_id;
    DynamicCounter::Callback callback;
  };
  void run(const std::stop_token& stop);

  const std::chrono::milliseconds interval_;
  // Held while sampling, so remove() waits for an invocation in progress.
  std::mutex mu_;
  std::condition_variable_any wake_;
  std::map<std::string, Counter, std::less<>> counters_;
  std::jthread thread_;
};

}  // namespace probemon::detail
