// SPDX-License-Identifier: BSD-3-Clause
// The recording's DynamicCounter backend and sampling thread
// (CounterSampler.h).
#include "CounterSampler.h"

#include <algorithm>
#include <new>

#include "ThreadRecords.h"

namespace probemon::detail {
namespace {

// The sampler with a running thread (one recording runs at a time), for
// Fork.cpp's child handler.
std::atomic<CounterSampler*> running_sampler{nullptr};

}  // namespace

class CounterSampler::Backend final : public DynamicCounterBackendIf {
 public:
  Backend(std::shared_ptr<RecordingStore> store, std::shared_ptr<Counters> counters)
      : store_(std::move(store)), counters_(std::move(counters)) {}

  // Called under the DynamicCounter registry's lock; takes only ours.
  void registerCounter(std::string_view key, DynamicCounter::Callback callback) override {
    auto counter = std::make_shared<Counter>();
    counter->name = store_->names.intern(key);
    counter->callback = std::move(callback);
    std::lock_guard lock(counters_->mu);
    counters_->live.push_back(std::move(counter));
  }

  // Need not wait for the sampler's invocation in flight: ~DynamicCounter
  // does, and a sample that returns after this is discarded.
  void unregisterCounter(std::string_view key) override {
    const std::uint32_t index = store_->names.intern(key);
    std::lock_guard lock(counters_->mu);
    std::erase_if(counters_->live, [&](const auto& counter) {
      if (counter->name != index) return false;
      counter->registered.store(false);
      return true;
    });
  }

 private:
  const std::shared_ptr<RecordingStore> store_;
  const std::shared_ptr<Counters> counters_;
};

CounterSampler::CounterSampler(std::shared_ptr<RecordingStore> store,
                               std::chrono::nanoseconds interval)
    : store_(std::move(store)), interval_(interval), counters_(std::make_shared<Counters>()) {}

CounterSampler::~CounterSampler() { stop(); }

void CounterSampler::start() {
  auto backend = std::make_unique<Backend>(store_, counters_);
  backend_ = backend.get();
  registerDynamicCounterBackend(std::move(backend));
  sampleAll();
  if (interval_.count() > 0) {
    thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
    running_sampler.store(this);
  }
}

void CounterSampler::forgetRunningThreadAfterFork() noexcept {
  if (CounterSampler* sampler = running_sampler.load()) sampler->forgetThreadAfterFork();
}

void CounterSampler::forgetThreadAfterFork() noexcept {
  // Overwritten, not destroyed: their state is the parent's, and the
  // sampling thread may have held either lock.
  new (&thread_) std::jthread();
  new (&wake_) std::condition_variable_any();
  new (&wake_mu_) std::mutex();
  new (&counters_->mu) std::mutex();
}

void CounterSampler::stop() {
  if (backend_ == nullptr) return;
  CounterSampler* self = this;
  running_sampler.compare_exchange_strong(self, nullptr);
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  sampleAll();
  unregisterDynamicCounterBackend(std::exchange(backend_, nullptr));
}

void CounterSampler::run(const std::stop_token& stop) {
  std::unique_lock lock(wake_mu_);
  for (;;) {
    // Wakes after the interval, or at once when a stop is requested.
    wake_.wait_for(lock, stop, interval_, [] { return false; });
    if (stop.stop_requested()) return;
    lock.unlock();
    sampleAll();
    lock.lock();
  }
}

void CounterSampler::sampleAll() {
  std::vector<std::shared_ptr<Counter>> counters;
  {
    std::lock_guard lock(counters_->mu);
    counters = counters_->live;
  }
  ThreadRecords* records = store_->queue.threadRecords();
  for (const auto& counter : counters) {
    std::int64_t value = 0;
    try {
      value = counter->callback();
    } catch (...) {  // the callback broke its contract: no sample, counted
      counters_->failures.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!counter->registered.load()) continue;  // destroyed meanwhile: its 0 is not a value
    if (records != nullptr) records->samples.emplace(counter->name, getTime(), value);
  }
}

}  // namespace probemon::detail
