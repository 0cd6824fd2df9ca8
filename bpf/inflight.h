/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* inflight.bpf.c <-> tool: the waits open right now, (pid, generation,
 * wait_id) -> key, thread and start time, in a hash the tool scans for old
 * ones. */
#ifndef PROBEMON_BPF_INFLIGHT_H
#define PROBEMON_BPF_INFLIGHT_H

#include "keys.h"

struct pm_wait_key {
	__u32 pid;
	__u32 generation; /* as struct pm_key's */
	__u64 wait_id;
};

struct pm_wait {
	__u64 key_id;
	__u64 start_ns;  /* CLOCK_MONOTONIC of the target (its time namespace's) */
	__u32 tid;
	__u32 pad;
};

#endif
