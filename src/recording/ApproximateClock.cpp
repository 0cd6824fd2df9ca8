// SPDX-License-Identifier: BSD-3-Clause
// The approximate clock's one-time decisions and its calibration
// (<probemon/ApproximateClock.h>): whether the TSC can stand in for
// CLOCK_MONOTONIC, the process-wide ticks-to-ns scale, and the median fit
// of a converter.
//
// A calibration pair brackets one approximate stamp between two reads of
// CLOCK_MONOTONIC (about 80 ns here), so its error is at most half that
// bracket unless the thread was preempted in between; the medians discard
// such pairs. Fitting the scale between pairs taken at a recording's start
// and at its end makes its error that of two pairs over the whole recording:
// the converted times stay within 2 us of CLOCK_MONOTONIC over 5 s
// (ApproximateClockTest.ConvertedTimesTrackMonotonicOverFiveSeconds).
#include <probemon/ApproximateClock.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace probemon {
namespace detail {

int approx_clock_source = kApproxUnknown;
std::atomic<double> approx_ns_per_tick{0.0};

namespace {

bool tscIsInvariant() {
#if defined(__x86_64__) || defined(__i386__)
  // CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every
  // P-, C- and T-state (Linux's constant_tsc + nonstop_tsc).
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (static_cast<unsigned>(__get_cpuid_max(0x80000000U, nullptr)) < 0x80000007U) return false;
  if (__get_cpuid(0x80000007U, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (edx & (1U << 8)) != 0;
#else
  return false;
#endif
}

struct Bracketed {
  ClockPair pair;
  time_t width;  // between the two CLOCK_MONOTONIC reads
};

Bracketed measureBracketed() noexcept {
  const time_t before = getTime();
  const approx_time_t approx = getApproximateTime();
  const time_t after = getTime();
  return {{before + (after - before) / 2, approx}, after - before};
}

// The tightest bracket of n pairs: a single pair whose error is at most
// half its width.
Bracketed tightestOf(int n) noexcept {
  Bracketed best = measureBracketed();
  for (int i = 1; i < n; ++i) {
    const Bracketed next = measureBracketed();
    if (next.width < best.width) best = next;
  }
  return best;
}

// The first end of the process-wide scale's baseline: taken when the
// library is loaded (or by the first calibration, if that runs earlier,
// from another static initializer), so by the time a recording calibrates
// the baseline is usually long and nothing has to wait.
const Bracketed& loadPair() {
  static const Bracketed pair = tightestOf(11);
  return pair;
}
[[maybe_unused]] const Bracketed& g_load_pair = loadPair();

template <typename T>
T median(std::vector<T>& values) {
  auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

}  // namespace

int decideApproxClockSource() noexcept {
  static const int source = [] {
    const char* forced = std::getenv("PROBEMON_APPROX_CLOCK");
    if (forced != nullptr && std::strcmp(forced, "monotonic") == 0) return kApproxMonotonic;
    return tscIsInvariant() ? kApproxTsc : kApproxMonotonic;
  }();
  __atomic_store_n(&approx_clock_source, source, __ATOMIC_RELAXED);
  return source;
}

}  // namespace detail

double calibrateApproximateClock() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (detail::decideApproxClockSource() != detail::kApproxTsc) {
      detail::approx_ns_per_tick.store(1.0);
      return;
    }
    // The slope between two single pairs is off by at most half the sum of
    // their bracket widths over the baseline: wait until that is 5 ppm
    // (about 25 ms for two 60 ns brackets), or at most 200 ms.
    constexpr double kMaxError = 5e-6;
    constexpr time_t kMaxBaselineNs = 200'000'000;
    const detail::Bracketed load = detail::loadPair();
    for (;;) {
      const detail::Bracketed now = detail::tightestOf(101);
      const time_t baseline = now.pair.t - load.pair.t;
      const auto needed =
          static_cast<time_t>(static_cast<double>(load.width + now.width) / 2 / kMaxError);
      if (baseline >= needed || baseline >= kMaxBaselineNs) {
        detail::approx_ns_per_tick.store(static_cast<double>(baseline) /
                                         static_cast<double>(now.pair.approx - load.pair.approx));
        break;
      }
      std::this_thread::sleep_for(
          std::chrono::nanoseconds(std::min(needed, kMaxBaselineNs) - baseline));
    }
  });
  return detail::approx_ns_per_tick.load();
}

ClockPair ApproximateClockConverter::measurePair() noexcept {
  return detail::measureBracketed().pair;
}

std::vector<ClockPair> ApproximateClockConverter::measurePairs(std::size_t n) {
  std::vector<ClockPair> pairs(n);
  for (ClockPair& pair : pairs) pair = measurePair();
  return pairs;
}

ApproximateClockConverter::ApproximateClockConverter() : start_(measurePairs(kReplicates)) {}

std::function<time_t(approx_time_t)> ApproximateClockConverter::makeConverter() const {
  if (detail::decideApproxClockSource() != detail::kApproxTsc) {
    return [](approx_time_t approx) { return approx; };
  }
  const std::vector<ClockPair> end = measurePairs(start_.size());
  return fit(start_, end);
}

ClockFit ApproximateClockConverter::fit(std::span<const ClockPair> start,
                                        std::span<const ClockPair> end) {
  if (start.empty() || start.size() != end.size()) {
    throw std::invalid_argument(
        "probemon::ApproximateClockConverter::fit: needs as many end "
        "pairs as start pairs, at least one");
  }
  std::vector<double> slopes;
  slopes.reserve(start.size());
  for (std::size_t i = 0; i < start.size(); ++i) {
    const approx_time_t ticks = end[i].approx - start[i].approx;
    if (ticks <= 0) {
      throw std::invalid_argument(
          "probemon::ApproximateClockConverter::fit: an end pair is not "
          "later than its start pair");
    }
    slopes.push_back(static_cast<double>(end[i].t - start[i].t) / static_cast<double>(ticks));
  }
  ClockFit result;
  result.ns_per_tick = detail::median(slopes);
  result.approx0 = start.front().approx;
  // What each pair says the time at approx0 is; relative to the first start
  // pair's time, so the doubles hold small numbers.
  const time_t base = start.front().t;
  std::vector<double> offsets;
  offsets.reserve(start.size() + end.size());
  for (const auto& pairs : {start, end}) {
    for (const ClockPair& pair : pairs) {
      offsets.push_back(static_cast<double>(pair.t - base) -
                        static_cast<double>(pair.approx - result.approx0) * result.ns_per_tick);
    }
  }
  // An even count (2n): the upper median is still one pair's value.
  const double offset = detail::median(offsets);
  result.t0 = base + static_cast<time_t>(offset < 0 ? offset - 0.5 : offset + 0.5);
  return result;
}

}  // namespace probemon
