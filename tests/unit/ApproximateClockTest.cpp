// SPDX-License-Identifier: BSD-3-Clause
// <probemon/ApproximateClock.h>: the converter's medians against outliers,
// stamps from before calibration, and agreement with CLOCK_MONOTONIC over
// five seconds. Run twice by ctest: as is (TSC on this machine) and with
// PROBEMON_APPROX_CLOCK=monotonic.
#include <gtest/gtest.h>
#include <probemon/ApproximateClock.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace probemon::test {
namespace {

// Pairs on the exact line t = 1e9 + approx / 2 (ns_per_tick 0.5, even
// stamps), so every pair agrees and any outlier would show.
std::vector<ClockPair> exactPairs(approx_time_t first, std::size_t n) {
  std::vector<ClockPair> pairs;
  for (std::size_t i = 0; i < n; ++i) {
    const approx_time_t approx = first + static_cast<approx_time_t>(i) * 200;
    pairs.push_back({1'000'000'000 + approx / 2, approx});
  }
  return pairs;
}

constexpr std::size_t kPairs = ApproximateClockConverter::kReplicates;

// Whether Linux lists `flag` for the CPU (Linux derives constant_tsc and
// nonstop_tsc from the invariant-TSC bit the library reads).
bool cpuFlag(const std::string& flag) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) == 0)
      return (line + " ").find(" " + flag + " ") != std::string::npos;
  }
  return false;
}

TEST(ApproximateClock, FitOfExactPairsIsExact) {
  const auto start = exactPairs(4'000'000, kPairs);
  const auto end = exactPairs(4'000'000'000, kPairs);
  const ClockFit fit = ApproximateClockConverter::fit(start, end);
  EXPECT_EQ(fit.ns_per_tick, 0.5);
  for (approx_time_t approx : {4'000'000LL, 5'000'000'000LL, 123'456'788LL}) {
    EXPECT_EQ(fit(approx), 1'000'000'000 + approx / 2);
  }
}

// The reference takes the offset from one unsorted sample at index n/2 + 1
// and the scale from index n/2 + 1 of the sorted slopes; a true median
// ignores pairs delayed by preemption wherever they are, as long as fewer
// than half are.
TEST(ApproximateClock, PairsDelayedBy50usDoNotMoveTheFit) {
  const auto start = exactPairs(4'000'000, kPairs);
  const auto end = exactPairs(4'000'000'000, kPairs);
  const ClockFit clean = ApproximateClockConverter::fit(start, end);
  for (std::size_t delayed : {std::size_t{0}, kPairs / 2, kPairs / 2 + 1, kPairs - 1}) {
    SCOPED_TRACE(delayed);
    for (bool at_end : {false, true}) {
      auto s = start;
      auto e = end;
      // The clock was read 50 us late on one side of the stamp: the
      // bracket's midpoint is 25 us late.
      (at_end ? e : s)[delayed].t += 25'000;
      const ClockFit fit = ApproximateClockConverter::fit(s, e);
      EXPECT_EQ(fit.ns_per_tick, clean.ns_per_tick);
      EXPECT_EQ(fit.approx0, clean.approx0);
      EXPECT_EQ(fit.t0, clean.t0);
    }
  }
  // Several at once, in the places an unsorted pick would land on.
  auto s = start;
  for (std::size_t i : {std::size_t{0}, kPairs / 2, kPairs / 2 + 1, std::size_t{7}, kPairs - 1}) {
    s[i].t += 50'000;
  }
  const ClockFit fit = ApproximateClockConverter::fit(s, end);
  EXPECT_EQ(fit.ns_per_tick, clean.ns_per_tick);
  EXPECT_EQ(fit(123'456'788), clean(123'456'788));
}

TEST(ApproximateClock, FitRefusesMismatchedPairs) {
  const auto start = exactPairs(4'000'000, 3);
  EXPECT_THROW(ApproximateClockConverter::fit(start, exactPairs(9'000'000, 2)),
               std::invalid_argument);
  EXPECT_THROW(ApproximateClockConverter::fit({}, {}), std::invalid_argument);
  // An end pair not later than its start pair.
  EXPECT_THROW(ApproximateClockConverter::fit(start, start), std::invalid_argument);
}

// Stamps taken before the converter's first pair convert to earlier times:
// no unsigned underflow, and in order.
TEST(ApproximateClock, StampsFromBeforeCalibrationConvertInOrder) {
  const ClockFit fit = ApproximateClockConverter::fit(exactPairs(4'000'000'000, kPairs),
                                                      exactPairs(8'000'000'000, kPairs));
  EXPECT_EQ(fit(0), 1'000'000'000);
  EXPECT_EQ(fit(2'000'000), 1'001'000'000);
  EXPECT_EQ(fit(-2'000'000), 999'000'000);

  struct Early {
    time_t before;
    approx_time_t approx;
    time_t after;
  };
  std::vector<Early> early;
  for (int i = 0; i < 20; ++i) {
    const time_t before = getTime();
    const approx_time_t approx = getApproximateTime();
    early.push_back({before, approx, getTime()});
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  const ApproximateClockConverter clock;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto convert = clock.makeConverter();
  time_t previous = 0;
  for (const Early& e : early) {
    const time_t t = convert(e.approx);
    EXPECT_GE(t, previous);
    EXPECT_GE(t, e.before - 2'000);
    EXPECT_LE(t, e.after + 2'000);
    previous = t;
  }
}

// The one timed test of the suite: the issue asks for converted stamps
// within 2 us of CLOCK_MONOTONIC over at least 5 s.
TEST(ApproximateClock, ConvertedTimesTrackMonotonicOverFiveSeconds) {
  struct Sample {
    time_t before;
    approx_time_t approx;
    time_t after;
  };
  const ApproximateClockConverter clock;
  std::vector<Sample> samples;
  const time_t end = getTime() + 5'100'000'000;
  while (getTime() < end) {
    const time_t before = getTime();
    const approx_time_t approx = getApproximateTime();
    samples.push_back({before, approx, getTime()});
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto convert = clock.makeConverter();
  ASSERT_GT(samples.back().after - samples.front().before, 5'000'000'000);
  for (const Sample& s : samples) {
    const time_t t = convert(s.approx);
    EXPECT_GE(t, s.before - 2'000);
    EXPECT_LE(t, s.after + 2'000);
  }
}

TEST(ApproximateClock, DurationsConvertWithTheProcessScale) {
  const double scale = calibrateApproximateClock();
  EXPECT_GT(scale, 0.0);
  EXPECT_EQ(calibrateApproximateClock(), scale);  // measured once
  // Each stamp between two clock reads: the true duration from a0 to a1
  // lies in [t1_before - t0_after, t1_after - t0_before] even if the thread
  // is preempted in between.
  const time_t t0_before = getTime();
  const approx_time_t a0 = getApproximateTime();
  const time_t t0_after = getTime();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const time_t t1_before = getTime();
  const approx_time_t a1 = getApproximateTime();
  const time_t t1_after = getTime();
  // Allow 100 ppm of scale error on top (5 ppm is the bound when calibrated).
  const time_t measured = approxDurationToNs(a1 - a0);
  const time_t longest = t1_after - t0_before;
  const time_t shortest = t1_before - t0_after;
  EXPECT_LE(measured, longest + longest / 10'000);
  EXPECT_GE(measured, shortest - shortest / 10'000);
}

TEST(ApproximateClock, SourceIsDecidedOnceAsTheEnvironmentAsks) {
  getApproximateTime();
  const char* forced = std::getenv("PROBEMON_APPROX_CLOCK");
  if (forced != nullptr && std::strcmp(forced, "monotonic") == 0) {
    EXPECT_EQ(detail::approx_clock_source, detail::kApproxMonotonic);
    // The stamps are CLOCK_MONOTONIC ns and the converter is the identity.
    const time_t before = getTime();
    const approx_time_t approx = getApproximateTime();
    EXPECT_GE(approx, before);
    EXPECT_LE(approx, getTime());
    EXPECT_EQ(ApproximateClockConverter().makeConverter()(approx), approx);
    EXPECT_EQ(calibrateApproximateClock(), 1.0);
  } else if (cpuFlag("constant_tsc") && cpuFlag("nonstop_tsc")) {
    EXPECT_EQ(detail::approx_clock_source, detail::kApproxTsc);
  } else {
    EXPECT_NE(detail::approx_clock_source, detail::kApproxUnknown);
  }
  EXPECT_EQ(detail::decideApproxClockSource(), detail::approx_clock_source);
}

}  // namespace
}  // namespace probemon::test
