// SPDX-License-Identifier: BSD-3-Clause
/* The probe ABI's constants, which probemon.d (DTrace's D syntax) cannot
 * hold: plain C, included by the library (src/) that fires the probes and by
 * the BPF programs (bpf/) that read them. Values are a public contract like
 * the probes themselves (docs/probes.md): add, never change. */
#ifndef PROBEMON_ABI_H
#define PROBEMON_ABI_H

/* The `kind` argument of counter__register and counter__unregister. */
#define PROBEMON_KIND_WAIT_COUNTER 0    /* a wait counter key was first created */
#define PROBEMON_KIND_DYNAMIC_COUNTER 1 /* a DynamicCounter was built or destroyed */

/* One wait of a wait__batch batch: what wait__done would have said of it.
 * `key` points to the key's NUL-terminated name in the process. */
struct pm_wait_record {
	unsigned long long key_id;
	unsigned long long duration_ns;
	unsigned long long key;
};

#endif
