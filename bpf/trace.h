/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* trace.bpf.c <-> tool: one ring-buffer record per wait at or above the
 * latency threshold. */
#ifndef PROBEMON_BPF_TRACE_H
#define PROBEMON_BPF_TRACE_H

#include "keys.h"

struct pm_trace_event {
	__u32 pid;
	__u32 tid;
	__u32 generation; /* as struct pm_key's */
	__u32 pad;
	__u64 key_id;
	__u64 wait_id;
	__u64 start_ns;
	__u64 duration_ns;
};

#endif
