// SPDX-License-Identifier: BSD-3-Clause
// The recording's parts on their own: per-thread nesting and clamping, and
// the RecordQueue's per-thread lists and cap.
// (This binary links the static library, whose internals it can reach.)
#include <gtest/gtest.h>
#include <probemon/RecordQueue.h>
#include <probemon/Result.h>
#include <unistd.h>

#include <thread>

#include "recording/Nesting.h"
#include "recording/ThreadRecords.h"

namespace probemon::test {
namespace {

std::shared_ptr<Result> span(std::uint64_t tid, time_t start, time_t end,
                             Result::Kind kind = Result::Kind::Wait) {
  auto r = std::make_shared<Result>();
  r->kind = kind;
  r->tid = tid;
  r->start_ns = start;
  r->end_ns = end;
  r->name = std::to_string(tid) + ":" + std::to_string(start) + "-" + std::to_string(end);
  return r;
}

TEST(Nesting, SortsParentsFirstAndClampsOverrunningChildren) {
  std::vector<std::shared_ptr<Result>> events = {
      span(1, 10, 150),                        // overruns its parent 0-100
      span(2, 0, 10),                          // another thread
      span(1, 0, 100),                         // the parent
      span(1, 20, 30),                         // nested in 10-150 (then 10-100)
      span(1, 0, 50),                          // same start as the parent: after it
      span(1, 100, 120),                       // starts where the parent ends: a sibling
      span(1, 40, 40, Result::Kind::Instant),  // points nest nothing
      span(0, 5, 5, Result::Kind::CounterSample),
  };
  EXPECT_EQ(detail::nestPerThread(events), 1U);
  std::vector<std::string> order;
  for (const auto& e : events) order.push_back(e->name + (e->clamped ? "c" : ""));
  // 10-150 is clamped to 0-50's end (its innermost enclosing span), 20-30
  // fits; the counter sample comes last.
  EXPECT_EQ(order, (std::vector<std::string>{"1:0-100", "1:0-50", "1:10-150c", "1:20-30", "1:40-40",
                                             "1:100-120", "2:0-10", "0:5-5"}));
  EXPECT_EQ(events[2]->end_ns, 50);
}

TEST(Nesting, ClampsToTheInnermostParentAndCountsEach) {
  std::vector<std::shared_ptr<Result>> events = {span(7, 0, 100), span(7, 10, 60), span(7, 20, 80),
                                                 span(7, 30, 90)};
  EXPECT_EQ(detail::nestPerThread(events), 2U);
  EXPECT_EQ(events[2]->end_ns, 60);  // 20-80 into 10-60
  EXPECT_EQ(events[3]->end_ns, 60);  // 30-90 into 20-60
  EXPECT_TRUE(events[3]->clamped);
  EXPECT_FALSE(events[0]->clamped);
}

TEST(RecordQueue, EachThreadGetsItsOwnSubqueueAndTheCapHoldsOverAll) {
  RecordQueue queue(1500);
  ThreadSubqueue* mine = queue.getSubqueue();
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(queue.getSubqueue(), mine);
  EXPECT_EQ(mine->tid(), static_cast<std::uint64_t>(gettid()));
  int stored_here = 0;
  for (int i = 0; i < 1000; ++i) stored_here += mine->emplacePyCall(python_tracer::TraceKey(i), i);
  EXPECT_EQ(stored_here, 1000);
  ThreadSubqueue* theirs = nullptr;
  int stored_there = 0;
  std::thread([&] {
    theirs = queue.getSubqueue();
    for (int i = 0; i < 1000; ++i) {
      stored_there += theirs->emplacePyCall(python_tracer::TraceKey(i), i);
    }
  }).join();
  EXPECT_NE(theirs, mine);
  // The first thread reserved a block of 1024; 476 were left.
  EXPECT_EQ(stored_there, 476);
  EXPECT_EQ(theirs->pyCalls().droppedOverCap(), 524U);
  EXPECT_EQ(queue.allThreadRecords().size(), 2U);
  // Read back in order.
  std::int64_t expected = 0;
  mine->pyCalls().forEach([&](const ThreadSubqueue::PyCall& call) {
    EXPECT_EQ(call.enter_t, expected);
    EXPECT_EQ(call.key.value(), static_cast<std::uint64_t>(expected));
    ++expected;
  });
  EXPECT_EQ(expected, 1000);
}

// Another queue in between: the thread-local cache misses, and the thread's
// existing subqueue is found again rather than a second one made.
TEST(RecordQueue, AThreadKeepsOneSubqueuePerQueue) {
  RecordQueue a(100), b(100);
  ThreadSubqueue* first = a.getSubqueue();
  ASSERT_NE(b.getSubqueue(), nullptr);
  EXPECT_EQ(a.getSubqueue(), first);
  EXPECT_EQ(a.allThreadRecords().size(), 1U);
  EXPECT_NE(a.id(), b.id());
}

// Readers see whole events while the owner appends.
TEST(RecordQueue, ReaderRacesWithWriter) {
  RecordQueue queue(100'000);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    ThreadSubqueue* sub = queue.getSubqueue();
    for (int i = 0; i < 50'000; ++i) sub->emplacePyCall(python_tracer::TraceKey(i), i);
    done.store(true);
  });
  bool finished = false;
  while (!finished) {
    finished = done.load();
    for (const detail::ThreadRecords* records : queue.allThreadRecords()) {
      std::int64_t expected = 0;
      records->pyCalls().forEach([&](const ThreadSubqueue::PyCall& call) {
        ASSERT_EQ(call.enter_t, expected);
        ASSERT_EQ(call.key.value(), static_cast<std::uint64_t>(expected));
        ++expected;
      });
      if (finished) {
        EXPECT_EQ(expected, 50'000);
      }
    }
  }
  writer.join();
}

}  // namespace
}  // namespace probemon::test
