/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* inflight.bpf.c <-> tool: the waits open right now, (pid, wait_id) ->
 * key, thread and start time, in an LRU hash the tool scans for old ones. */
#ifndef PROBEMON_BPF_INFLIGHT_H
#define PROBEMON_BPF_INFLIGHT_H

#include "keys.h"

struct pm_wait_key {
	__u32 pid;
	__u32 pad;
	__u64 wait_id;
};

struct pm_wait {
	__u64 key_id;
	__u64 start_ns;  /* CLOCK_MONOTONIC, as bpf_ktime_get_ns() */
	__u32 tid;
	__u32 pad;
};

#endif
