// SPDX-License-Identifier: BSD-3-Clause
// Test backends that record what probemon tells them, and RAII registration
// so every test leaves the global registries as it found them.
#pragma once

#include <gtest/gtest.h>
#include <probemon/DynamicCounter.h>
#include <probemon/WaitCounter.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace probemon::test {

// What one factory's backends saw, per key. Shared with the factory so it
// outlives unregistration.
struct WaitLog {
  std::mutex mu;
  std::map<std::string, int> creates;
  std::map<std::string, std::int64_t> starts;
  std::map<std::string, std::int64_t> stops;
  std::atomic<std::int64_t> unmatched_stops{0};  // a stop with an unknown ctx
  std::atomic<std::int64_t> negative_durations{0};
  std::atomic<int> live_backends{0};
  std::atomic<int> open_at_destruction{0};  // waits a backend never saw stop

  std::int64_t startsOf(const std::string& key) {
    std::lock_guard lock(mu);
    return starts[key];
  }
  std::int64_t stopsOf(const std::string& key) {
    std::lock_guard lock(mu);
    return stops[key];
  }
  int createsOf(const std::string& key) {
    std::lock_guard lock(mu);
    return creates[key];
  }
};

// A backend for one key: contexts are its own start times, so a stop can be
// matched to its start exactly.
class RecordingBackend final : public detail::WaitCounterBackendIf {
 public:
  RecordingBackend(std::shared_ptr<WaitLog> log, std::string key)
      : log_(std::move(log)), key_(std::move(key)) {
    ++log_->live_backends;
  }
  ~RecordingBackend() override {
    std::lock_guard lock(mu_);
    log_->open_at_destruction += static_cast<int>(open_.size());
    --log_->live_backends;
  }

  std::intptr_t start(std::chrono::steady_clock::time_point now) noexcept override {
    const std::intptr_t ctx = next_ctx_.fetch_add(1) + 1;
    {
      std::lock_guard lock(mu_);
      open_.emplace(ctx, now);
    }
    std::lock_guard lock(log_->mu);
    ++log_->starts[key_];
    return ctx;
  }

  void stop(std::chrono::steady_clock::time_point now, std::intptr_t ctx) noexcept override {
    {
      std::lock_guard lock(mu_);
      auto it = open_.find(ctx);
      if (it == open_.end()) {
        ++log_->unmatched_stops;
      } else {
        if (now < it->second) ++log_->negative_durations;
        open_.erase(it);
      }
    }
    std::lock_guard lock(log_->mu);
    ++log_->stops[key_];
  }

 private:
  std::shared_ptr<WaitLog> log_;
  const std::string key_;
  std::atomic<std::intptr_t> next_ctx_{0};
  std::mutex mu_;
  std::map<std::intptr_t, std::chrono::steady_clock::time_point> open_;
};

// Creates a RecordingBackend for every key `accept` allows, nullptr otherwise.
class RecordingFactory final : public detail::WaitCounterBackendFactoryIf {
 public:
  using Accept = std::function<bool(std::string_view)>;
  explicit RecordingFactory(std::shared_ptr<WaitLog> log, Accept accept = {})
      : log_(std::move(log)), accept_(std::move(accept)) {}

  std::unique_ptr<detail::WaitCounterBackendIf> create(std::string_view key) noexcept override {
    {
      std::lock_guard lock(log_->mu);
      ++log_->creates[std::string(key)];
    }
    if (accept_ && !accept_(key)) return nullptr;
    return std::make_unique<RecordingBackend>(log_, std::string(key));
  }

 private:
  std::shared_ptr<WaitLog> log_;
  Accept accept_;
};

// Registers a factory for the scope of a test.
class ScopedWaitBackend {
 public:
  explicit ScopedWaitBackend(std::unique_ptr<detail::WaitCounterBackendFactoryIf> factory)
      : factory_(factory.get()) {
    detail::registerWaitCounterBackend(std::move(factory));
  }
  explicit ScopedWaitBackend(std::shared_ptr<WaitLog> log, RecordingFactory::Accept accept = {})
      : ScopedWaitBackend(std::make_unique<RecordingFactory>(std::move(log), std::move(accept))) {}
  ~ScopedWaitBackend() { reset(); }
  ScopedWaitBackend(const ScopedWaitBackend&) = delete;
  ScopedWaitBackend& operator=(const ScopedWaitBackend&) = delete;

  const detail::WaitCounterBackendFactoryIf* factory() const { return factory_; }
  void reset() {
    if (factory_ != nullptr) {
      EXPECT_TRUE(detail::unregisterWaitCounterBackend(factory_));
      factory_ = nullptr;
    }
  }

 private:
  const detail::WaitCounterBackendFactoryIf* factory_;
};

// What a DynamicCounter backend was told.
struct CounterLog {
  std::mutex mu;
  std::vector<std::string> events;  // "register KEY" / "unregister KEY"
  std::map<std::string, DynamicCounter::Callback> callbacks;

  std::vector<std::string> eventsSoFar() {
    std::lock_guard lock(mu);
    return events;
  }
  // Invokes the callback the backend holds for `key`.
  std::int64_t read(const std::string& key) {
    DynamicCounter::Callback cb;
    {
      std::lock_guard lock(mu);
      cb = callbacks.at(key);
    }
    return cb();
  }
};

class RecordingCounterBackend final : public detail::DynamicCounterBackendIf {
 public:
  explicit RecordingCounterBackend(std::shared_ptr<CounterLog> log,
                                   std::function<void(std::string_view)> on_register = {})
      : log_(std::move(log)), on_register_(std::move(on_register)) {}

  void registerCounter(std::string_view key, DynamicCounter::Callback cb) override {
    if (on_register_) on_register_(key);
    std::lock_guard lock(log_->mu);
    log_->events.push_back("register " + std::string(key));
    log_->callbacks[std::string(key)] = std::move(cb);
  }
  // Deliberately does not wait for invocations in flight: ~DynamicCounter
  // must do that itself.
  void unregisterCounter(std::string_view key) override {
    std::lock_guard lock(log_->mu);
    log_->events.push_back("unregister " + std::string(key));
  }

 private:
  std::shared_ptr<CounterLog> log_;
  std::function<void(std::string_view)> on_register_;
};

class ScopedCounterBackend {
 public:
  explicit ScopedCounterBackend(std::unique_ptr<detail::DynamicCounterBackendIf> backend)
      : backend_(backend.get()) {
    detail::registerDynamicCounterBackend(std::move(backend));
  }
  ~ScopedCounterBackend() { EXPECT_TRUE(detail::unregisterDynamicCounterBackend(backend_)); }
  ScopedCounterBackend(const ScopedCounterBackend&) = delete;
  ScopedCounterBackend& operator=(const ScopedCounterBackend&) = delete;

 private:
  const detail::DynamicCounterBackendIf* backend_;
};

}  // namespace probemon::test
