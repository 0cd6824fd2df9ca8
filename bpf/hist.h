/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* The one log2 latency histogram, shared by every BPF program that keeps one
 * and by the tool that prints it (like bcc's bits.bpf.h + histogram struct).
 * Durations are bucketed in a unit chosen at load time (ns, us or ms) so the
 * printed buckets are exact; count, sum, min and max stay in nanoseconds. */
#ifndef PROBEMON_BPF_HIST_H
#define PROBEMON_BPF_HIST_H

#include <linux/types.h>

/* Slot i holds values in [2^i, 2^(i+1)) of the unit, slot 0 also holds 0;
 * the last slot holds everything above. 40 slots of microseconds is 12 days. */
#define PM_HIST_SLOTS 40

struct pm_hist {
	__u64 slots[PM_HIST_SLOTS];
	__u64 count;
	__u64 sum_ns;
	__u64 min_ns;
	__u64 max_ns;
};

#ifdef __bpf__ /* the helpers below run in BPF programs only */

/* floor(log2(v)), 0 for v == 0; branch-free like bcc's log2l. */
static __always_inline __u32 pm_log2(__u64 v)
{
	__u32 r, shift;

	r = (v > 0xFFFFFFFFULL) << 5; v >>= r;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* floor(log2(duration_ns / unit_ns)) without a division, which costs more
 * than the rest of the update: with u = unit_ns, l = log2(d) and
 * ul = log2(u) (floored), the answer is l - ul or one less, and it is
 * l - ul exactly when d >= u << (l - ul) (which cannot overflow). */
static __always_inline __u32 pm_hist_slot(__u64 duration_ns, __u64 unit_ns, __u32 unit_log2)
{
	__u32 slot;

	if (duration_ns < unit_ns)
		return 0;
	slot = pm_log2(duration_ns) - unit_log2;
	if (duration_ns < (unit_ns << slot))
		slot--;
	return slot < PM_HIST_SLOTS ? slot : PM_HIST_SLOTS - 1;
}

/* Adds one duration. Callers hold a per-CPU value, so plain stores suffice. */
static __always_inline void pm_hist_add(struct pm_hist *h, __u64 duration_ns, __u64 unit_ns,
					__u32 unit_log2)
{
	__u32 slot = pm_hist_slot(duration_ns, unit_ns, unit_log2);

	/* Keep the compiler from checking one copy of slot and indexing with
	 * another: the verifier must see the bound on the register used. */
	barrier_var(slot);
	if (slot < PM_HIST_SLOTS)
		h->slots[slot]++;
	if (h->count == 0 || duration_ns < h->min_ns)
		h->min_ns = duration_ns;
	if (duration_ns > h->max_ns)
		h->max_ns = duration_ns;
	h->count++;
	h->sum_ns += duration_ns;
}

#endif /* __bpf__ */

#endif
