// SPDX-License-Identifier: BSD-3-Clause
// A C++ stand-in for the Python module's tracer, registered through
// registerTracer() as the real one will be: call entries go into the
// recording's RecordQueue (ThreadSubqueue::emplacePyCall), exits into the
// tracer's own per-thread storage, and getEvents() pairs them per thread
// and names them, closing calls still open at the end time.
#pragma once

#include <probemon/PythonTracer.h>
#include <probemon/RecordQueue.h>
#include <probemon/Result.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace probemon::test {

class FakePythonTracer final : public python_tracer::PythonTracerBase {
 public:
  explicit FakePythonTracer(RecordQueue* queue) : queue_(queue) {}
  ~FakePythonTracer() override { active().store(nullptr); }

  // The registered MakeFn: the tracer it makes becomes active().
  static std::unique_ptr<PythonTracerBase> make(RecordQueue* queue) {
    auto tracer = std::make_unique<FakePythonTracer>(queue);
    active().store(tracer.get());
    return tracer;
  }
  static std::atomic<FakePythonTracer*>& active() {
    static std::atomic<FakePythonTracer*> tracer{nullptr};
    return tracer;
  }

  // A call of function `key` ("py.f<key>") on this thread.
  void enter(std::uint64_t key) {
    if (stopped_.load()) return;
    queue_->getSubqueue()->emplacePyCall(python_tracer::TraceKey(key), getApproximateTime());
  }
  void exit() {
    if (stopped_.load()) return;
    const approx_time_t now = getApproximateTime();
    std::lock_guard lock(mu_);
    exits_[static_cast<std::uint64_t>(gettid())].push_back(now);
  }

  void stop() override {
    stopped_.store(true);
    ++stops;
  }
  void restart() override { stopped_.store(false); }
  void register_gc_callback() override { ++gc_registrations; }

  std::vector<std::shared_ptr<Result>> getEvents(
      std::function<time_t(approx_time_t)> time_converter,
      std::vector<python_tracer::CompressedEvent>& enters, time_t end_time_ns) override {
    ++get_events_calls;
    enters_seen = enters.size();
    std::lock_guard lock(mu_);
    std::map<std::uint64_t, std::size_t> next_exit;
    // Per thread, replay entries and exits in time order with a stack.
    std::map<std::uint64_t, std::vector<std::shared_ptr<Result>>> stacks;
    std::vector<std::shared_ptr<Result>> out;
    const auto closeUntil = [&](std::uint64_t tid, approx_time_t t) {
      auto& exits = exits_[tid];
      auto& stack = stacks[tid];
      while (!stack.empty() && next_exit[tid] < exits.size() && exits[next_exit[tid]] <= t) {
        stack.back()->end_ns = time_converter(exits[next_exit[tid]++]);
        out.push_back(stack.back());
        stack.pop_back();
      }
    };
    for (const auto& enter : enters) {
      closeUntil(enter.system_tid_, enter.enter_t_);
      auto call = std::make_shared<Result>();
      call->kind = Result::Kind::PythonCall;
      call->name = "py.f" + std::to_string(enter.key_.value());
      call->location = "fake.py:" + std::to_string(enter.key_.value());
      call->tid = enter.system_tid_;
      call->start_ns = time_converter(enter.enter_t_);
      stacks[enter.system_tid_].push_back(call);
    }
    for (auto& [tid, stack] : stacks) {
      closeUntil(tid, std::numeric_limits<approx_time_t>::max());
      for (auto& call : stack) {  // open at the end
        call->end_ns = end_time_ns;
        call->open_at_stop = true;
        out.push_back(call);
      }
    }
    return out;
  }

  std::atomic<int> stops{0};
  std::atomic<int> gc_registrations{0};
  std::atomic<int> get_events_calls{0};
  std::size_t enters_seen = 0;

 private:
  RecordQueue* const queue_;
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::map<std::uint64_t, std::vector<approx_time_t>> exits_;
};

// Registers FakePythonTracer::make for the scope of a test.
class ScopedFakeTracer {
 public:
  ScopedFakeTracer() { python_tracer::registerTracer(&FakePythonTracer::make); }
  ~ScopedFakeTracer() { python_tracer::registerTracer(nullptr); }
  ScopedFakeTracer(const ScopedFakeTracer&) = delete;
  ScopedFakeTracer& operator=(const ScopedFakeTracer&) = delete;
};

}  // namespace probemon::test
