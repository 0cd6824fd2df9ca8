// SPDX-License-Identifier: BSD-3-Clause
// The tracer registry of <probemon/PythonTracer.h>: one atomic function
// pointer per kind of tracer, so registering races with nothing (the last
// store wins, nullptr unregisters), and the no-op tracers make() falls back to.
#include <probemon/PythonTracer.h>

#include <atomic>
#include <stdexcept>
#include <utility>

#include <probemon/Result.h>

namespace probemon::python_tracer {
namespace {

std::atomic<MakeFn> g_make_tracer{nullptr};
std::atomic<MakeMemoryFn> g_make_memory_tracer{nullptr};

// Records nothing; every call is harmless in any order.
struct NoOpTracer final : PythonTracerBase {
  void stop() override {}
  void restart() override {}
  void register_gc_callback() override {}
  std::vector<std::shared_ptr<Result>> getEvents(
      std::function<time_t(approx_time_t)> /*time_converter*/,
      std::vector<CompressedEvent>& /*enters*/, time_t /*end_time_ns*/) override {
    return {};
  }
};

struct NoOpMemoryTracer final : PythonMemoryTracerBase {
  void start() override {}
  void stop() override {}
  void export_memory_history(const std::string& path) override {
    throw std::runtime_error(
        "probemon: no memory tracer is registered (import the probemon "
        "Python module to register one); nothing was written to " +
        path);
  }
};

// What the registered function makes, or a NoOp if there is none or it
// made nothing.
template <typename NoOp, typename Fn, typename... Args>
auto makeOrNoOp(const std::atomic<Fn>& registered, Args... args) {
  using Tracer = decltype(std::declval<Fn>()(args...));
  if (Fn make_tracer = registered.load(std::memory_order_acquire)) {
    if (Tracer tracer = make_tracer(args...)) return tracer;
  }
  return Tracer(std::make_unique<NoOp>());
}

}  // namespace

std::unique_ptr<PythonTracerBase> PythonTracerBase::make(RecordQueue* queue) {
  return makeOrNoOp<NoOpTracer>(g_make_tracer, queue);
}

void registerTracer(MakeFn make_tracer) {
  g_make_tracer.store(make_tracer, std::memory_order_release);
}

std::unique_ptr<PythonMemoryTracerBase> PythonMemoryTracerBase::make() {
  return makeOrNoOp<NoOpMemoryTracer>(g_make_memory_tracer);
}

void registerMemoryTracer(MakeMemoryFn make_memory_tracer) {
  g_make_memory_tracer.store(make_memory_tracer, std::memory_order_release);
}

}  // namespace probemon::python_tracer
