// SPDX-License-Identifier: BSD-3-Clause
// <probemon/Recording.h>: a known multi-threaded workload read back from
// the exported trace exactly (waits per key and thread, nesting, counter
// values, names), open waits at stop, clamping, the event cap, hostile
// keys, instants, and misuse.
#include <gtest/gtest.h>
#include <probemon/DynamicCounter.h>
#include <probemon/Recording.h>
#include <probemon/WaitCounter.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "ForkedChild.h"
#include "RecordingBackends.h"
#include "TraceFile.h"

namespace probemon::test {
namespace {

RecordingOptions withoutCounters() {
  RecordingOptions options;
  options.record_counters = false;
  return options;
}

TEST(Recording, WorkloadGivesExactWaitsPerKeyAndThreadNestedWithCountersAndNames) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 50;
  std::atomic<std::int64_t> calls{0};
  DynamicCounter depth("recording.workload.depth", [] { return 7; });
  DynamicCounter sampled("recording.workload.calls", [&] { return ++calls; });
  RecordingOptions options;
  options.counter_interval = std::chrono::milliseconds(1);
  options.process_name = "workload-test";
  Recording recording(options);
  recording.start();

  std::vector<std::uint64_t> tids(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const std::string name = "worker-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      tids[i] = static_cast<std::uint64_t>(gettid());
      WaitCounterHandle own("recording.workload.thread" + std::to_string(i));
      for (int round = 0; round < kRounds; ++round) {
        PROBEMON_STATIC_SCOPED_WAIT_COUNTER(recording.workload.outer);
        for (int j = 0; j < 3; ++j) {
          PROBEMON_STATIC_SCOPED_WAIT_COUNTER(recording.workload.inner);
        }
        if (round <= i) own.start().stop();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a few counter samples
  recording.stop();
  const auto trace = exportTrace(recording);

  // Exactly the waits, per key and thread.
  const auto all = spans(trace);
  std::map<std::pair<std::string, std::uint64_t>, int> expected;
  for (int i = 0; i < kThreads; ++i) {
    expected[{"recording.workload.outer", tids[i]}] = kRounds;
    expected[{"recording.workload.inner", tids[i]}] = 3 * kRounds;
    expected[{"recording.workload.thread" + std::to_string(i), tids[i]}] = i + 1;
  }
  EXPECT_EQ(countByNameAndThread(all), expected);
  EXPECT_EQ(trace.at("otherData").at("dropped_total"), 0);
  EXPECT_EQ(trace.at("otherData").at("clamped"), 0);
  EXPECT_EQ(trace.at("otherData").at("open_at_stop"), 0);

  // Every inner wait inside an outer one on its thread, and the thread's
  // events in file order never going back in time.
  std::map<std::uint64_t, std::vector<Span>> outers;
  for (const Span& s : all) {
    if (s.name == "recording.workload.outer") outers[s.tid].push_back(s);
  }
  std::map<std::uint64_t, std::int64_t> last_start;
  for (const Span& s : all) {
    EXPECT_LE(last_start[s.tid], s.start);
    last_start[s.tid] = s.start;
    EXPECT_LE(s.start, s.end);
    if (s.name != "recording.workload.inner") continue;
    int parents = 0;
    for (const Span& o : outers[s.tid]) {
      if (o.start <= s.start && s.end <= o.end) ++parents;
    }
    EXPECT_EQ(parents, 1) << "an inner wait at " << s.start << " on thread " << s.tid;
  }

  // Counter tracks carry the callbacks' values: the constant, and one call
  // per sample (nothing else reads these counters here).
  std::vector<std::int64_t> depth_values, call_values;
  for (const auto& c : eventsOfPhase(trace, "C")) {
    EXPECT_EQ(c.at("cat"), "counter");
    const auto value = c.at("args").at("value").get<std::int64_t>();
    if (c.at("name") == "recording.workload.depth") depth_values.push_back(value);
    if (c.at("name") == "recording.workload.calls") call_values.push_back(value);
  }
  ASSERT_GE(depth_values.size(), 2U);  // at start and at stop at least
  EXPECT_EQ(std::set<std::int64_t>(depth_values.begin(), depth_values.end()),
            std::set<std::int64_t>{7});
  ASSERT_EQ(call_values.size(), static_cast<std::size_t>(calls.load()));
  for (std::size_t i = 0; i < call_values.size(); ++i) {
    EXPECT_EQ(call_values[i], static_cast<std::int64_t>(i + 1));
  }

  // Process and thread names.
  std::map<std::uint64_t, std::string> thread_names;
  std::string process_name;
  for (const auto& m : eventsOfPhase(trace, "M")) {
    EXPECT_EQ(m.at("pid"), getpid());
    if (m.at("name") == "thread_name") thread_names[m.at("tid")] = m.at("args").at("name");
    if (m.at("name") == "process_name") process_name = m.at("args").at("name");
  }
  EXPECT_EQ(process_name, "workload-test");
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(thread_names[tids[i]], "worker-" + std::to_string(i));
  }
  // The API gives the same events.
  std::size_t waits = 0;
  for (const auto& e : recording.events()) waits += e->kind == Result::Kind::Wait ? 1 : 0;
  EXPECT_EQ(waits, static_cast<std::size_t>(kThreads * 4 * kRounds + 1 + 2 + 3 + 4));
}

TEST(Recording, WaitsOpenAtStopEndAtTheStopTimeAndAreMarked) {
  WaitCounterHandle handle("recording.open");
  Recording recording(withoutCounters());
  recording.start();
  auto open = handle.start();
  handle.start().stop();
  recording.stop();
  open.stop();  // after the recording stopped: still open in it
  const auto trace = exportTrace(recording);
  const auto all = spans(trace);
  ASSERT_EQ(all.size(), 2U);
  const Span& first = all[0];  // starts first
  EXPECT_EQ(first.args.at("open_at_stop"), true);
  EXPECT_FALSE(all[1].args.contains("open_at_stop"));
  EXPECT_LE(all[1].end, first.end);
  EXPECT_EQ(trace.at("otherData").at("open_at_stop"), 1);
  const auto& events = recording.events();
  const auto it =
      std::find_if(events.begin(), events.end(), [](const auto& e) { return e->open_at_stop; });
  ASSERT_NE(it, events.end());
  // The stop time: the latest time in the recording.
  for (const auto& e : events) EXPECT_LE(e->end_ns, (*it)->end_ns);
}

TEST(Recording, WaitsOutsideTheWindowAreNotRecorded) {
  WaitCounterHandle handle("recording.window");
  handle.start().stop();
  auto before = handle.start();
  Recording recording(withoutCounters());
  recording.start();
  before.stop();  // started before the recording: its backend did not exist
  handle.start().stop();
  recording.stop();
  handle.start().stop();
  EXPECT_EQ(spans(exportTrace(recording)).size(), 1U);
}

// A guard moved out of an enclosing wait and stopped after it: the child
// overruns its parent and is clamped to the parent's end.
TEST(Recording, ChildOverrunningItsParentIsClamped) {
  WaitCounterHandle outer_key("recording.clamp.outer");
  WaitCounterHandle inner_key("recording.clamp.inner");
  Recording recording(withoutCounters());
  recording.start();
  auto outer = outer_key.start();
  auto inner = inner_key.start();
  outer.stop();
  inner.stop();
  recording.stop();
  EXPECT_EQ(recording.clamped(), 1U);
  const auto all = spans(exportTrace(recording));
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[0].name, "recording.clamp.outer");
  EXPECT_EQ(all[1].name, "recording.clamp.inner");
  EXPECT_EQ(all[1].end, all[0].end);
  EXPECT_EQ(all[1].args.at("clamped"), true);
}

TEST(Recording, EventsOverTheCapAreDroppedAndCountedPerCause) {
  WaitCounterHandle handle("recording.cap");
  RecordingOptions options = withoutCounters();
  options.max_events = 100;
  Recording recording(options);
  recording.start();
  for (int i = 0; i < 1000; ++i) handle.start().stop();
  recording.instant("over the cap");
  recording.stop();
  const RecordingDrops drops = recording.dropped();
  EXPECT_EQ(drops.waits_over_cap, 900U);
  EXPECT_EQ(drops.instants_over_cap, 1U);
  EXPECT_EQ(drops.total(), 901U);
  const auto trace = exportTrace(recording);
  EXPECT_EQ(spans(trace).size(), 100U);
  const auto& other = trace.at("otherData");
  EXPECT_EQ(other.at("max_events"), 100);
  EXPECT_EQ(other.at("dropped").at("waits_over_cap"), 900);
  EXPECT_EQ(other.at("dropped").at("instants_over_cap"), 1);
  EXPECT_EQ(other.at("dropped_total"), 901);
  // And visibly on the timeline.
  int markers = 0;
  for (const auto& i : eventsOfPhase(trace, "i")) {
    if (i.at("name") == "probemon: 901 events dropped") {
      ++markers;
      EXPECT_EQ(i.at("s"), "p");
      EXPECT_EQ(i.at("args").at("waits_over_cap"), 900);
    }
  }
  EXPECT_EQ(markers, 1);
}

TEST(Recording, CapHoldsAcrossThreads) {
  WaitCounterHandle handle("recording.cap.threads");
  RecordingOptions options = withoutCounters();
  options.max_events = 1500;  // more than one block, less than two per thread
  Recording recording(options);
  recording.start();
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) handle.start().stop();
    });
  }
  for (auto& t : threads) t.join();
  recording.stop();
  const std::size_t stored = recording.events().size();
  EXPECT_LE(stored, 1500U);
  EXPECT_EQ(stored + recording.dropped().waits_over_cap, 6000U);
}

// Keys are any bytes; the trace must still be valid JSON (nlohmann rejects
// invalid UTF-8 too), and show each key recognizably.
TEST(Recording, HostileKeysAndNamesGiveValidJson) {
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"q\"uote", "q\"uote"},
      {"back\\slash", "back\\slash"},
      {"new\nline\ttab\rcr", "new\nline\ttab\rcr"},
      {std::string("ctl\x01\x1f\x7f nul\0end", 14), std::string("ctl\x01\x1f\x7f nul\0end", 14)},
      {"bad\xff\xfe", "bad\\xff\\xfe"},
      {"trunc\xe2\x82", "trunc\\xe2\\x82"},
      {"overlong\xc0\xaf", "overlong\\xc0\\xaf"},
      {"surrogate\xed\xa0\x80", "surrogate\\xed\\xa0\\x80"},
      {"above\xf4\x90\x80\x80", "above\\xf4\\x90\\x80\\x80"},
      {"fine \xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x8e\x89",
       "fine \xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x8e\x89"},
  };
  std::vector<std::unique_ptr<DynamicCounter>> counters;
  for (const auto& [key, shown] : keys) {
    counters.push_back(
        std::make_unique<DynamicCounter>("recording.hostile." + key, [] { return 1; }));
  }
  RecordingOptions options;
  options.counter_interval = std::chrono::nanoseconds(0);  // at start and stop
  options.process_name = "proc\"\xff";
  Recording recording(options);
  recording.start();
  std::uint64_t tid = 0;
  std::thread([&] {
    pthread_setname_np(pthread_self(), "thr\"\\\xff\n");
    tid = static_cast<std::uint64_t>(gettid());
    for (const auto& [key, shown] : keys) {
      WaitCounterHandle(key).start().stop();
      recording.instant(key);
    }
  }).join();
  recording.stop();
  const auto trace = exportTrace(recording);

  std::multiset<std::string> expected, waits, instants, counter_names;
  for (const auto& [key, shown] : keys) expected.insert(shown);
  for (const Span& s : spans(trace)) waits.insert(s.name);
  for (const auto& i : eventsOfPhase(trace, "i")) instants.insert(i.at("name"));
  for (const auto& c : eventsOfPhase(trace, "C")) {
    counter_names.insert(c.at("name").get<std::string>().substr(sizeof("recording.hostile.") - 1));
  }
  EXPECT_EQ(waits, expected);
  EXPECT_EQ(instants, expected);
  std::set<std::string> counted(counter_names.begin(), counter_names.end());
  EXPECT_EQ(counted, std::set<std::string>(expected.begin(), expected.end()));
  for (const auto& m : eventsOfPhase(trace, "M")) {
    if (m.at("name") == "thread_name") {
      EXPECT_EQ(m.at("args").at("name"), "thr\"\\\\xff\n");
    }
    if (m.at("name") == "process_name") {
      EXPECT_EQ(m.at("args").at("name"), "proc\"\\xff");
    }
  }
}

TEST(Recording, InstantsAreRecordedOnTheirThreadWhileRunning) {
  Recording recording(withoutCounters());
  recording.instant("before");
  recording.start();
  recording.instant("phase 1");
  std::uint64_t other = 0;
  std::thread([&] {
    other = static_cast<std::uint64_t>(gettid());
    recording.instant(std::string(5000, 'x'));  // longer than an arena block
  }).join();
  recording.stop();
  recording.instant("after");
  const auto instants = eventsOfPhase(exportTrace(recording), "i");
  ASSERT_EQ(instants.size(), 2U);
  std::map<std::string, std::uint64_t> tid_of;
  for (const auto& i : instants) {
    EXPECT_EQ(i.at("s"), "t");
    tid_of[i.at("name")] = i.at("tid");
  }
  EXPECT_EQ(tid_of.at("phase 1"), static_cast<std::uint64_t>(gettid()));
  EXPECT_EQ(tid_of.at(std::string(5000, 'x')), other);
}

// With another backend on the key, the recorder hears of waits through the
// public interface (CLOCK_MONOTONIC time points) and records them the same.
TEST(Recording, RecordsWaitsBesideAnotherBackend) {
  auto log = std::make_shared<WaitLog>();
  ScopedWaitBackend other(log);
  WaitCounterHandle handle("recording.beside");
  Recording recording(withoutCounters());
  recording.start();
  const time_t before = getTime();
  for (int i = 0; i < 10; ++i) handle.start().stop();
  const time_t after = getTime();
  recording.stop();
  EXPECT_EQ(log->stopsOf("recording.beside"), 10);
  int recorded = 0;
  for (const auto& e : recording.events()) {
    if (e->name != "recording.beside") continue;
    ++recorded;
    EXPECT_GE(e->start_ns, before);
    EXPECT_LE(e->end_ns, after);
  }
  EXPECT_EQ(recorded, 10);
}

TEST(Recording, MisuseGetsClearErrors) {
  Recording recording(withoutCounters());
  recording.stop();  // before start: nothing
  EXPECT_THROW(recording.events(), std::logic_error);
  EXPECT_THROW(recording.exportChromeTrace("/tmp/never-written.json"), std::logic_error);
  recording.start();
  Recording second(withoutCounters());
  try {
    second.start();
    FAIL() << "two recordings ran at once";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("another recording is running"), std::string::npos);
  }
  recording.stop();
  recording.stop();                                   // twice: nothing
  EXPECT_THROW(recording.start(), std::logic_error);  // once per Recording
  second.start();                                     // the first one stopped
  second.stop();

  const std::string bad = "/nonexistent-dir/trace.json";
  try {
    recording.exportChromeTrace(bad);
    FAIL() << "exported to a directory that does not exist";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos);
  }
}

TEST(Recording, NegativeOptionsAreRefused) {
  RecordingOptions options;
  options.max_events = -1;
  EXPECT_THROW(Recording{options}, std::invalid_argument);
  options = RecordingOptions{};
  options.counter_interval = std::chrono::milliseconds(-1);
  EXPECT_THROW(Recording{options}, std::invalid_argument);
}

TEST(Recording, CounterCallbackThatThrowsIsCountedNotSampled) {
  DynamicCounter broken("recording.counter.throws",
                        []() -> std::int64_t { throw std::runtime_error("broken callback"); });
  RecordingOptions options;
  options.counter_interval = std::chrono::nanoseconds(0);
  Recording recording(options);
  recording.start();
  recording.stop();
  EXPECT_EQ(recording.dropped().counter_callback_failed, 2U);  // at start and at stop
  for (const auto& e : recording.events()) EXPECT_NE(e->name, "recording.counter.throws");
}

// A child of fork() has none of the parent's threads. A recording that was
// running there (its counter sampler thread waiting) stops and is destroyed
// without waiting for that thread, and the child may record again.
TEST(Recording, AForkedChildStopsTheParentsRecordingAndRecordsAgain) {
  PROBEMON_SKIP_FORK_WITH_THREADS_UNDER_SANITIZERS();
  DynamicCounter depth("recording.fork.depth", [] { return 5; });
  RecordingOptions options;
  options.counter_interval = std::chrono::milliseconds(1);
  auto recording = std::make_unique<Recording>(options);
  recording->start();
  // Setup, not an assertion: fork while the sampler thread waits.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(runInForkedChild([&] {
              recording->stop();
              recording.reset();
              Recording again(options);
              again.start();
              again.stop();
              if (again.dropped().total() != 0) _exit(1);
            }),
            0);
  recording->stop();
}

// A callback may construct and destroy DynamicCounters: the sampler calls it
// holding no lock that those need.
TEST(Recording, CounterCallbackMayCreateCounters) {
  std::atomic<int> made{0};
  DynamicCounter maker("recording.counter.maker", [&] {
    DynamicCounter inner("recording.counter.inner" + std::to_string(made++), [] { return 1; });
    return 3;
  });
  RecordingOptions options;
  options.counter_interval = std::chrono::microseconds(200);
  Recording recording(options);
  recording.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  recording.stop();
  EXPECT_GE(made.load(), 2);
  int samples = 0;
  for (const auto& e : recording.events()) {
    if (e->name == "recording.counter.maker") {
      EXPECT_EQ(e->value, 3);
      ++samples;
    }
  }
  EXPECT_GE(samples, 2);
}

}  // namespace
}  // namespace probemon::test
