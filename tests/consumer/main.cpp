// SPDX-License-Identifier: BSD-3-Clause
// Uses the public API the way an application does and checks what a backend
// saw; prints "consumer: 3 waits, counter 42" on success.
#include <probemon/DynamicCounter.h>
#include <probemon/WaitCounter.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>

namespace {

std::atomic<int> g_stops{0};

class CountingBackend : public probemon::detail::WaitCounterBackendIf {
 public:
  std::intptr_t start(std::chrono::steady_clock::time_point) noexcept override { return 7; }
  void stop(std::chrono::steady_clock::time_point, std::intptr_t ctx) noexcept override {
    if (ctx == 7) ++g_stops;
  }
};

class CountingFactory : public probemon::detail::WaitCounterBackendFactoryIf {
 public:
  std::unique_ptr<probemon::detail::WaitCounterBackendIf> create(
      std::string_view key) noexcept override {
    if (key != "consumer.wait") return nullptr;
    return std::make_unique<CountingBackend>();
  }
};

class ReadingBackend : public probemon::detail::DynamicCounterBackendIf {
 public:
  void registerCounter(std::string_view, probemon::DynamicCounter::Callback cb) override {
    value = cb();
  }
  void unregisterCounter(std::string_view) override {}
  std::int64_t value = 0;
};

}  // namespace

int main() {
  probemon::detail::registerWaitCounterBackend(std::make_unique<CountingFactory>());
  auto reader = std::make_unique<ReadingBackend>();
  auto* reading = reader.get();
  probemon::detail::registerDynamicCounterBackend(std::move(reader));
  { PROBEMON_STATIC_SCOPED_WAIT_COUNTER(consumer.wait); }
  PROBEMON_WITH_WAIT_COUNTER(consumer.wait, std::puts("consumer: waiting"));
  probemon::WaitCounterHandle("consumer.wait").start().stop();
  probemon::DynamicCounter counter("consumer.counter", [] { return 42; });
  std::printf("consumer: %d waits, counter %lld\n", g_stops.load(),
              static_cast<long long>(reading->value));
  return g_stops.load() == 3 && reading->value == 42 ? 0 : 1;
}
