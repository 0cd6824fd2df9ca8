// SPDX-License-Identifier: BSD-3-Clause
// What a reader needs to know of a traced process now, beyond the BPF maps:
// whether it has exited, and how far its clock is from this tool's.
//
// Exited: by a pidfd, which tells a process whose threads have all exited
// (also one its parent has not reaped yet) from a live one, and refers to
// the process it was opened for, never to a later one with its pid.
//
// The clock: a process in a time namespace (Linux 5.6+), e.g. a container
// started with `unshare --time --monotonic=N`, reads CLOCK_MONOTONIC offset
// from the host's, so the start times its probes report are in its own
// clock, while bpf_ktime_get_ns() and this tool read the host's (or the
// tool's own namespace's). The offset is read from /proc/PID/timens_offsets,
// which shows the namespace the process's children get: its own, unless it
// called unshare(CLONE_NEWTIME) and has not executed a program since (not
// handled: its ages are then off by the new namespace's offset).
#pragma once

#include <cstdint>

namespace probemon::tool {

// Whether process `pid` has exited (or never existed).
bool processExited(int pid);

// How far process `pid`'s CLOCK_MONOTONIC is ahead of the host's, in ns
// (negative: behind); 0 outside a time namespace, on a kernel without them,
// or once the process is gone. `pid` 0: this process.
std::int64_t monotonicOffsetNs(int pid);

}  // namespace probemon::tool
