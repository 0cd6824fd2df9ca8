/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* Latency histograms in the kernel: one wait__done hit per wait adds its
 * duration to a per-CPU histogram of (pid, key_id). Nothing goes to user
 * space per event and no lock is shared between CPUs on the hot path; the
 * key string is read once, on the key's first wait. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

#include "latency.h"
#include "keys.bpf.h"
#include "usdt_regs.bpf.h"

/* Histogram unit in ns (1, 1000 or 1000000) and its floor(log2), set by the
 * tool before load. */
const volatile __u64 unit_ns = 1000;
const volatile __u32 unit_log2 = 9;

/* Set by the tool for -p: the uprobes are attached for one process only, so
 * key_id alone (dense from 1 in libprobemon) indexes hists_by_id, an array
 * whose lookup the verifier inlines: no hashing on the hot path. Clear for
 * --path, where hists is keyed by (pid, key_id). Being const, the branch not
 * taken is removed at load. */
const volatile bool one_process = false;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1); /* sized by the tool before load, like hists */
	__type(key, __u32);
	__type(value, struct pm_hist);
} hists_by_id SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct pm_key);
	__type(value, struct pm_hist);
} hists SEC(".maps");

/* Waits not counted: the map was full, or the key_id past hists_by_id. */
__u64 waits_dropped = 0;

static const struct pm_hist zero_hist;

/* wait__done(key, key_id, wait_id, start_ns, duration_ns). Arguments are
 * fetched one by one (pm_usdt_arg(), the fast bpf_usdt_arg()) rather than
 * with BPF_USDT() so only key_id and duration_ns are read per wait, the key
 * pointer only on a key's first wait. */
SEC("usdt")
int handle_wait_done(struct pt_regs *ctx)
{
	struct __bpf_usdt_spec *spec = pm_usdt_spec(ctx);
	struct pm_key key = {};
	long key_id, duration_ns, name;
	struct pm_hist *h;
	__u32 slot;

	if (!spec || pm_usdt_arg(ctx, spec, 1, &key_id) || pm_usdt_arg(ctx, spec, 4, &duration_ns))
		return 0;
	key.key_id = key_id;
	if (one_process) {
		h = 0;
		if (key_id > 0 && key_id <= 0xFFFFFFFFL) {
			slot = key_id - 1;
			h = bpf_map_lookup_elem(&hists_by_id, &slot);
		}
		if (!h) {
			__sync_fetch_and_add(&waits_dropped, 1);
			return 0;
		}
		if ((h->count == 0 || pm_names_pending()) && !pm_usdt_arg(ctx, spec, 0, &name)) {
			key.pid = bpf_get_current_pid_tgid() >> 32;
			if (h->count == 0) /* first wait of this key on this CPU */
				pm_record_key_name(&key, (const char *)name);
			else /* a name may be waiting to be read again */
				pm_read_key_name(&key, (const char *)name);
		}
		pm_hist_add(h, duration_ns, unit_ns, unit_log2);
		return 0;
	}
	key.pid = bpf_get_current_pid_tgid() >> 32;
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) { /* a new key: its name is read only now */
		if (pm_usdt_arg(ctx, spec, 0, &name))
			return 0;
		h = pm_lookup_or_try_init(&hists, &key, &zero_hist, (const char *)name,
					  &waits_dropped);
		if (!h)
			return 0;
	} else if (pm_names_pending() && !pm_usdt_arg(ctx, spec, 0, &name)) {
		pm_read_key_name(&key, (const char *)name); /* may be waiting to be read again */
	}
	pm_hist_add(h, duration_ns, unit_ns, unit_log2);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
