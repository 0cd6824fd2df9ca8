#include "ProbeSampler.h"

#include <pthread.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "probes.h"

namespace probemon::detail {
namespace {

std::chrono::milliseconds intervalFromEnvironment() {
  constexpr std::chrono::milliseconds kDefault{1000};
  const char* text = std::getenv("PROBEMON_SAMPLE_MS");
  if (text == nullptr) {
    return kDefault;
  }
  long ms = 0;
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, ms);
  // A library must not fail its host over a tuning knob: ignore bad values.
  if (ec != std::errc() || ptr != end || ms < 1 || ms > 3'600'000) {
    return kDefault;
  }
  return std::chrono::milliseconds(ms);
}

// The process's sampler (the DynamicCounter registry's, never destroyed),
// for the fork handler.
ProbeSampler* the_sampler = nullptr;

}  // namespace

ProbeSampler::ProbeSampler() : interval_(intervalFromEnvironment()) {
  the_sampler = this;
  static const int registered = pthread_atfork(nullptr, nullptr, [] {
    if (the_sampler != nullptr) the_sampler->forgetThreadAfterFork();
  });
  (void)registered;
}

void ProbeSampler::forgetThreadAfterFork() noexcept {
  // Overwritten, not destroyed: their state is the parent's.
  new (&thread_) std::jthread();
  new (&wake_) std::condition_variable_any();
  new (&mu_) std::mutex();
}

void ProbeSampler::add(std::string_view key, std::uint64_t key_id,
                       DynamicCounter::Callback callback) {
  std::lock_guard lock(mu_);
  counters_.insert_or_assign(std::string(key), Counter{key_id, std::move(callback)});
  if (!thread_.joinable()) {
    thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
  }
}

void ProbeSampler::remove(std::string_view key) {
  // Destroyed, so stopped and joined, after mu_ is released: the thread
  // needs mu_ to notice the stop request.
  std::jthread finished;
  {
    std::lock_guard lock(mu_);
    if (auto it = counters_.find(key); it != counters_.end()) {
      counters_.erase(it);
    }
    if (counters_.empty()) {
      finished = std::move(thread_);
    }
  }
}

std::size_t ProbeSampler::sampleOnce() {
  if (!PROBEMON_PROBE_ENABLED(dynamic__value)) {
    return 0;
  }
  std::lock_guard lock(mu_);
  std::size_t fired = 0;
  for (const auto& [key, counter] : counters_) {
    std::int64_t value = 0;
    try {
      value = counter.callback();
    } catch (...) {
      continue;  // the callback broke its contract: no sample this round
    }
    PROBEMON_PROBE(dynamic__value, key.c_str(), counter.key_id, value);
    ++fired;
  }
  return fired;
}

void ProbeSampler::run(const std::stop_token& stop) {
  std::unique_lock lock(mu_);
  for (;;) {
    // Wakes after the interval, or at once when a stop is requested.
    wake_.wait_for(lock, stop, interval_, [] { return false; });
    if (stop.stop_requested()) {
      return;
    }
    lock.unlock();
    sampleOnce();
    lock.lock();
  }
}

}  // namespace probemon::detail
