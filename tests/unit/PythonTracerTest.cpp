// SPDX-License-Identifier: BSD-3-Clause
// <probemon/PythonTracer.h>: the registry (atomic, last one wins, nullptr
// unregisters, a no-op when empty), and a registered tracer's events merged
// into a recording's timeline, as the Python module's will be.
#include <gtest/gtest.h>
#include <probemon/PythonTracer.h>
#include <probemon/RecordQueue.h>
#include <probemon/Recording.h>
#include <probemon/Result.h>
#include <probemon/WaitCounter.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "FakePythonTracer.h"
#include "TraceFile.h"

namespace probemon::test {
namespace {

using python_tracer::PythonMemoryTracerBase;
using python_tracer::PythonTracerBase;

// Tracers that say which registration made them.
template <int kId>
struct TaggedTracer final : PythonTracerBase {
  static std::unique_ptr<PythonTracerBase> make(RecordQueue* /*queue*/) {
    return std::make_unique<TaggedTracer>();
  }
  void stop() override {}
  void restart() override {}
  void register_gc_callback() override {}
  std::vector<std::shared_ptr<Result>> getEvents(std::function<time_t(approx_time_t)> /*convert*/,
                                                 std::vector<python_tracer::CompressedEvent>& /*e*/,
                                                 time_t /*end*/) override {
    auto tag = std::make_shared<Result>();
    tag->name = std::to_string(kId);
    return {tag};
  }
};

// The tag of the tracer make() returns: "" for the no-op.
std::string tagOf(PythonTracerBase& tracer) {
  std::vector<python_tracer::CompressedEvent> enters;
  auto events = tracer.getEvents([](approx_time_t t) { return t; }, enters, 0);
  return events.empty() ? "" : events.front()->name;
}

TEST(PythonTracer, MakeWithNothingRegisteredIsANoOpThatIsSafeToUse) {
  python_tracer::registerTracer(nullptr);
  RecordQueue queue(100);
  auto tracer = PythonTracerBase::make(&queue);
  ASSERT_NE(tracer, nullptr);
  // Every call in every order: stop before start, twice, restart after stop.
  tracer->stop();
  tracer->stop();
  tracer->restart();
  tracer->register_gc_callback();
  tracer->stop();
  EXPECT_EQ(tagOf(*tracer), "");
  EXPECT_NE(PythonTracerBase::make(nullptr), nullptr);
}

TEST(PythonTracer, LastRegistrationWinsAndNullptrUnregisters) {
  RecordQueue queue(100);
  python_tracer::registerTracer(&TaggedTracer<1>::make);
  EXPECT_EQ(tagOf(*PythonTracerBase::make(&queue)), "1");
  python_tracer::registerTracer(&TaggedTracer<2>::make);
  EXPECT_EQ(tagOf(*PythonTracerBase::make(&queue)), "2");
  python_tracer::registerTracer(nullptr);
  EXPECT_EQ(tagOf(*PythonTracerBase::make(&queue)), "");
}

TEST(PythonTracer, AMakeFnReturningNullGivesTheNoOp) {
  python_tracer::registerTracer(
      [](RecordQueue*) -> std::unique_ptr<PythonTracerBase> { return nullptr; });
  auto tracer = PythonTracerBase::make(nullptr);
  ASSERT_NE(tracer, nullptr);
  EXPECT_EQ(tagOf(*tracer), "");
  python_tracer::registerTracer(nullptr);
}

// Run under TSan by scripts/test.sh: registration is a race-free store.
TEST(PythonTracer, RegistrationRacesWithMake) {
  RecordQueue queue(100);
  std::atomic<bool> done{false};
  std::thread registrar([&] {
    while (!done.load()) {
      python_tracer::registerTracer(&TaggedTracer<1>::make);
      python_tracer::registerTracer(nullptr);
      python_tracer::registerTracer(&TaggedTracer<2>::make);
    }
  });
  int made[3] = {0, 0, 0};
  for (int i = 0; i < 20'000; ++i) {
    auto tracer = PythonTracerBase::make(&queue);
    tracer->stop();
    const std::string tag = tagOf(*tracer);
    ++made[tag.empty() ? 0 : std::stoi(tag)];
  }
  done.store(true);
  registrar.join();
  python_tracer::registerTracer(nullptr);
  EXPECT_EQ(made[0] + made[1] + made[2], 20'000);
}

struct CountingMemoryTracer final : PythonMemoryTracerBase {
  static inline std::atomic<int> starts{0};
  static std::unique_ptr<PythonMemoryTracerBase> make() {
    return std::make_unique<CountingMemoryTracer>();
  }
  void start() override { ++starts; }
  void stop() override {}
  void export_memory_history(const std::string& /*path*/) override {}
};

TEST(PythonMemoryTracer, NoOpToleratesAnyOrderAndSaysWhyItCannotExport) {
  python_tracer::registerMemoryTracer(nullptr);
  auto tracer = PythonMemoryTracerBase::make();
  ASSERT_NE(tracer, nullptr);
  tracer->stop();  // before start: the reference dereferences null here
  tracer->start();
  tracer->stop();
  tracer->stop();
  tracer->start();  // restart after stop
  tracer->stop();
  try {
    tracer->export_memory_history("/tmp/probemon-memory.pickle");
    FAIL() << "the no-op memory tracer exported something";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no memory tracer is registered"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("/tmp/probemon-memory.pickle"), std::string::npos);
  }
}

TEST(PythonMemoryTracer, RegisteredTracerIsMadeUntilUnregistered) {
  python_tracer::registerMemoryTracer(&CountingMemoryTracer::make);
  const int before = CountingMemoryTracer::starts.load();
  PythonMemoryTracerBase::make()->start();
  EXPECT_EQ(CountingMemoryTracer::starts.load(), before + 1);
  python_tracer::registerMemoryTracer(nullptr);
  PythonMemoryTracerBase::make()->start();
  EXPECT_EQ(CountingMemoryTracer::starts.load(), before + 1);
}

TEST(PythonTracer, RecordingDrivesTheRegisteredTracerAndMergesItsEvents) {
  ScopedFakeTracer registered;
  WaitCounterHandle wait("python.merge.wait");
  RecordingOptions options;
  options.record_counters = false;
  Recording recording(options);
  recording.start();
  FakePythonTracer* tracer = FakePythonTracer::active().load();
  ASSERT_NE(tracer, nullptr);
  EXPECT_EQ(tracer->gc_registrations.load(), 1);

  const auto tid = static_cast<std::uint64_t>(gettid());
  tracer->enter(1);  // py.f1 { py.f2 { wait } } py.f3 {
  tracer->enter(2);
  wait.start().stop();
  tracer->exit();
  tracer->exit();
  tracer->enter(3);
  std::uint64_t other_tid = 0;
  std::thread([&] {
    other_tid = static_cast<std::uint64_t>(gettid());
    tracer->enter(4);
    tracer->exit();
  }).join();
  recording.stop();
  EXPECT_EQ(tracer->stops.load(), 1);

  const auto trace = exportTrace(recording);
  EXPECT_EQ(FakePythonTracer::active().load(), nullptr) << "destroyed once its events are in";
  std::map<std::string, Span> by_name;
  for (const Span& s : spans(trace)) by_name.emplace(s.name, s);
  ASSERT_EQ(by_name.size(), 5U);
  const Span& f1 = by_name.at("py.f1");
  const Span& f2 = by_name.at("py.f2");
  const Span& w = by_name.at("python.merge.wait");
  const Span& f3 = by_name.at("py.f3");
  const Span& f4 = by_name.at("py.f4");
  for (const Span* s : {&f1, &f2, &f3}) {
    EXPECT_EQ(s->cat, "python");
    EXPECT_EQ(s->tid, tid);
  }
  EXPECT_EQ(f4.tid, other_tid);
  EXPECT_EQ(f1.args.at("location"), "fake.py:1");
  // Nested: f1 > f2 > wait, then f3, open at stop.
  EXPECT_LE(f1.start, f2.start);
  EXPECT_LE(f2.start, w.start);
  EXPECT_LE(w.end, f2.end);
  EXPECT_LE(f2.end, f1.end);
  EXPECT_LE(f1.end, f3.start);
  EXPECT_EQ(f3.args.at("open_at_stop"), true);
  EXPECT_EQ(trace.at("otherData").at("open_at_stop"), 1);
  // Events on one thread appear parents first.
  std::vector<std::string> order;
  for (const Span& s : spans(trace)) {
    if (s.tid == tid) order.push_back(s.name);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"py.f1", "py.f2", "python.merge.wait", "py.f3"}));
}

TEST(PythonTracer, EntriesOverTheCapAreDroppedAndCounted) {
  ScopedFakeTracer registered;
  RecordingOptions options;
  options.record_counters = false;
  options.max_events = 10;
  Recording recording(options);
  recording.start();
  FakePythonTracer* tracer = FakePythonTracer::active().load();
  for (int i = 0; i < 25; ++i) {
    tracer->enter(1);
    tracer->exit();
  }
  recording.stop();
  EXPECT_EQ(recording.dropped().python_calls_over_cap, 15U);
  const auto trace = exportTrace(recording);
  EXPECT_EQ(spans(trace).size(), 10U);
  EXPECT_EQ(trace.at("otherData").at("dropped").at("python_calls_over_cap"), 15);
}

}  // namespace
}  // namespace probemon::test
