// SPDX-License-Identifier: BSD-3-Clause
// probemon/ApproximateClock.h: a cheap clock for hot paths, converted to
// CLOCK_MONOTONIC nanoseconds afterwards.
//
// Reading CLOCK_MONOTONIC costs 31-49 ns here (vDSO); rdtsc costs 12-19 ns.
// Hot paths that stamp many events (a recorded wait, a Python call) stamp
// them with getApproximateTime() and convert the stamps to probemon::time_t
// (the probe ABI's clock) when the recording is exported:
//
//   probemon::ApproximateClockConverter clock;     // measures pairs now
//   const probemon::approx_time_t t = probemon::getApproximateTime();
//   ...
//   auto toTime = clock.makeConverter();           // measures pairs again, fits
//   probemon::time_t ns = toTime(t);               // CLOCK_MONOTONIC ns
//
// getApproximateTime() reads the TSC where it is invariant (checked once per
// process, from CPUID) and CLOCK_MONOTONIC otherwise, where converting is
// the identity. PROBEMON_APPROX_CLOCK=monotonic in the environment forces the
// latter.
//
// The converter is PyTorch's ApproximateClockToUnixTimeConverter, corrected:
// the scale is the median of per-pair slopes between the start and end pairs
// and the offset the median over every pair, both true medians
// (nth_element at n/2 of an odd count), so one pair delayed by preemption
// does not move the result; and stamps are signed, so ticks taken before
// calibration convert to earlier times instead of underflowing.
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include <probemon/detail/Export.h>

namespace probemon {

// Nanoseconds of CLOCK_MONOTONIC: the clock of the probe ABI and of
// bpf_ktime_get_ns().
using time_t = std::int64_t;  // NOLINT(bugprone-reserved-identifier): the seed's name
// TSC ticks where the TSC is invariant, CLOCK_MONOTONIC ns otherwise. Signed,
// so differences of stamps taken in either order are plain subtractions.
using approx_time_t = std::int64_t;

inline time_t getTime() noexcept {
  timespec ts;  // NOLINT(cppcoreguidelines-pro-type-member-init): filled in, cannot fail
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<time_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace detail {

enum ApproxClockSource : int { kApproxUnknown = 0, kApproxTsc = 1, kApproxMonotonic = 2 };

// Which clock getApproximateTime() reads: kApproxUnknown until the first
// call decides, then fixed for the life of the process. Read inline.
PROBEMON_API extern int approx_clock_source;
// Decides the source once (CPUID's invariant-TSC bit, the environment) and
// returns it.
PROBEMON_API int decideApproxClockSource() noexcept;

// Nanoseconds per approximate tick, process-wide; 0 until
// calibrateApproximateClock() has run.
PROBEMON_API extern std::atomic<double> approx_ns_per_tick;

}  // namespace detail

inline approx_time_t getApproximateTime() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  int source = __atomic_load_n(&detail::approx_clock_source, __ATOMIC_RELAXED);
  if (__builtin_expect(source == detail::kApproxTsc, 1)) {
    // No fence: a stamp may be taken a few instructions early or late, which
    // is far below what the conversion resolves.
    return static_cast<approx_time_t>(__rdtsc());
  }
  if (source == detail::kApproxUnknown) {
    source = detail::decideApproxClockSource();
    if (source == detail::kApproxTsc) return static_cast<approx_time_t>(__rdtsc());
  }
#endif
  return getTime();
}

// Measures the process-wide scale once and returns it (nanoseconds per
// tick; 1.0 where the source is CLOCK_MONOTONIC). The scale is the slope
// between a pair taken when the library was loaded and one taken now, each
// the tightest of several brackets; the first call in a process sleeps until
// that baseline bounds the error to 5 ppm (about 25 ms after load here; 200
// ms at most). Later calls return at once. A recording calls it when it
// starts.
PROBEMON_API double calibrateApproximateClock();

// A duration in ticks as nanoseconds: one multiply, for hot paths that stamp
// with the TSC and need a duration now (within about 5 ppm). Only after
// calibrateApproximateClock() has returned; until then it returns 0.
inline time_t approxDurationToNs(approx_time_t ticks) noexcept {
  return static_cast<time_t>(static_cast<double>(ticks) *
                             detail::approx_ns_per_tick.load(std::memory_order_relaxed));
}

// One calibration pair: an approximate stamp read between two reads of
// CLOCK_MONOTONIC, and the midpoint of those two reads.
struct ClockPair {
  time_t t;
  approx_time_t approx;
};

// The linear map from approximate stamps to time_t that a converter fits.
struct ClockFit {
  approx_time_t approx0 = 0;  // a reference stamp (the first start pair's)
  time_t t0 = 0;              // the time at approx0
  double ns_per_tick = 1.0;

  time_t operator()(approx_time_t approx) const noexcept {
    const double ns = static_cast<double>(approx - approx0) * ns_per_tick;
    return t0 + static_cast<time_t>(ns < 0 ? ns - 0.5 : ns + 0.5);
  }
};

class PROBEMON_API ApproximateClockConverter {
 public:
  // Pairs measured at each end. Odd, so the median is one pair's value.
  static constexpr std::size_t kReplicates = 101;

  // Measures the start pairs.
  ApproximateClockConverter();

  // Measures the end pairs and returns the fitted conversion. May be called
  // again later for a longer baseline. Where the source is CLOCK_MONOTONIC,
  // the identity.
  std::function<time_t(approx_time_t)> makeConverter() const;

  // The same fit from given pairs, for tests and for callers that measure
  // their own: the scale is the median of (end[i].t - start[i].t) /
  // (end[i].approx - start[i].approx) over i, the offset the median over
  // every pair of what that scale leaves. Both spans non-empty, of equal
  // size, every end stamp later than its start stamp.
  static ClockFit fit(std::span<const ClockPair> start, std::span<const ClockPair> end);

  static ClockPair measurePair() noexcept;
  static std::vector<ClockPair> measurePairs(std::size_t n);

 private:
  std::vector<ClockPair> start_;
};

}  // namespace probemon
