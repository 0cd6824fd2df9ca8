/* counters.bpf.c <-> tool: per (pid, key_id) registrations and the last
 * value the sampler read from each DynamicCounter. */
#ifndef PROBEMON_BPF_COUNTERS_H
#define PROBEMON_BPF_COUNTERS_H

#include "keys.h"

/* kind argument of counter__register / counter__unregister */
#define PM_KIND_WAIT 0
#define PM_KIND_DYNAMIC 1
#define PM_KIND_UNKNOWN 0xFFFFFFFF  /* only values seen, no registration */

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
