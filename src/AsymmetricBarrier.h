// SPDX-License-Identifier: BSD-3-Clause
// A store-load barrier split unevenly between two sides: a fast side that
// runs on every timed wait and pays only a compiler barrier, and a slow side
// that runs rarely (backend registration) and pays a membarrier() system
// call. BackendSetRef's pin counts are built on it (BackendSetRef.h).
//
// The pattern is Dekker's, with the fence moved to one side:
//
//   fast side:  x.store(v, kFastStoreOrder); lightBarrier(); y.load(kFastLoadOrder)
//   slow side:  y.fetch_or(...);             heavyBarrier(); x.load(kFastLoadOrder)
//
// Either the fast side's load sees the slow side's write or the slow side's
// load sees the fast side's store (or both). heavyBarrier() makes every
// thread of the process that is running execute a full memory barrier, and
// a thread that is not running went through one when it was switched out, so
// the fast side's store and load are ordered on its CPU without it paying for
// a fence. Linux's membarrier(2), as in folly's asymmetric barriers and
// liburcu.
#pragma once

#include <atomic>

namespace probemon::detail {

#if defined(__SANITIZE_THREAD__)
#define PROBEMON_DETAIL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PROBEMON_DETAIL_TSAN 1
#endif
#endif

#if defined(PROBEMON_DETAIL_TSAN)
// ThreadSanitizer cannot see membarrier(): seq_cst on the fast side makes the
// pattern correct by the C++ memory model alone, in a form TSan checks.
inline constexpr std::memory_order kFastStoreOrder = std::memory_order_seq_cst;
inline constexpr std::memory_order kFastLoadOrder = std::memory_order_seq_cst;
#else
// Plain movs on x86-64. Release/acquire also carry the data the counts guard
// (a backend set used before an unpin) to the side that frees it.
inline constexpr std::memory_order kFastStoreOrder = std::memory_order_release;
inline constexpr std::memory_order kFastLoadOrder = std::memory_order_acquire;
#endif

// Keeps the compiler from moving the fast side's load above its store; the
// CPU may still, until a heavyBarrier() runs.
inline void lightBarrier() { std::atomic_signal_fence(std::memory_order_seq_cst); }

// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED). Returns false when the kernel
// cannot do it (before Linux 4.14, or blocked by seccomp): the slow side may
// then conclude nothing from its load. A few microseconds; the first call
// also registers the process, which may take milliseconds.
bool heavyBarrier();

}  // namespace probemon::detail
