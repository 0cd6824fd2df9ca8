/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* counters.bpf.c <-> tool: per (pid, generation, key_id) registrations and
 * the last value the sampler read from each DynamicCounter. */
#ifndef PROBEMON_BPF_COUNTERS_H
#define PROBEMON_BPF_COUNTERS_H

#include "keys.h"
#include "probemon_abi.h" /* kind: PROBEMON_KIND_* */

struct pm_counter {
	__s64 value;        /* last dynamic__value */
	__u64 samples;      /* dynamic__value hits */
	__u64 sampled_ns;   /* bpf_ktime_get_ns() of the last sample */
	__u64 registered;   /* counter__register hits */
	__u64 unregistered; /* counter__unregister hits */
	__u32 kind;
	__u32 pad;
};

#endif
