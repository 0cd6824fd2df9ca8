/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* Latency histograms in the kernel: one wait__done hit per wait adds its
 * duration to a per-CPU histogram of (pid, generation, key_id). Nothing goes
 * to user space per event and no lock is shared between CPUs on the hot
 * path; the key string is read once, on the key's first wait. */
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

/* -p (target_pid, generations.bpf.h): the keys of the image first traced
 * whose key_id fits are counted in hists_by_id, indexed by key_id - 1 (dense
 * from 1 in libprobemon): an array lookup the verifier inlines, no hashing
 * on the hot path. Every other key goes to hists, keyed by (pid,
 * generation, key_id): all of them with --path, and with -p a key_id past
 * the array (a process whose DynamicCounters took the low ones) and the
 * keys of later images (after an exec). Both are sized by the tool; a key's
 * name must be kept for its waits to be counted, so the key_names map bounds
 * the keys counted (--max-keys), whatever their key_ids. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pm_hist);
} hists_by_id SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct pm_key);
	__type(value, struct pm_hist);
} hists SEC(".maps");

/* Waits not counted: more keys than --max-keys (a full map, names included). */
__u64 waits_dropped = 0;

static const struct pm_hist zero_hist;

/* The `key` argument, read only for a key new to this CPU or to hists. */
static __always_inline const char *key_string(struct pt_regs *ctx, struct __bpf_usdt_spec *spec)
{
	long name;

	return pm_usdt_arg(ctx, spec, 0, &name) ? 0 : (const char *)name;
}

/* wait__done(key, key_id, wait_id, start_ns, duration_ns). Arguments are
 * fetched one by one (pm_usdt_arg(), the fast bpf_usdt_arg()) rather than
 * with BPF_USDT() so only key_id and duration_ns are read per wait, the key
 * pointer only on a key's first wait. */
SEC("usdt")
int handle_wait_done(struct pt_regs *ctx)
{
	struct __bpf_usdt_spec *spec = pm_usdt_spec(ctx);
	struct pm_key key = {};
	long key_id, duration_ns;
	struct pm_hist *h = 0;
	__u32 slot;

	if (!spec || pm_usdt_arg(ctx, spec, 1, &key_id) || pm_usdt_arg(ctx, spec, 4, &duration_ns))
		return 0;
	key.key_id = key_id;
	if (target_pid) {
		/* The probes fire for the target only: no helper call for its pid. */
		key.pid = target_pid;
		key.generation = target_generation;
		if (key.generation == 0 && key_id > 0 && key_id <= 0xFFFFFFFFL) {
			slot = key_id - 1;
			h = bpf_map_lookup_elem(&hists_by_id, &slot);
		}
	} else {
		key.pid = bpf_get_current_pid_tgid() >> 32;
		key.generation = pm_generation(key.pid);
	}
	if (h) {
		if (h->count == 0) { /* the key's first wait on this CPU: no name, no count */
			if (pm_read_key_name(&key, key_string(ctx, spec))) {
				__sync_fetch_and_add(&waits_dropped, 1);
				return 0;
			}
		} else if (pm_names_pending()) { /* a name may be waiting to be read again */
			pm_read_key_name(&key, key_string(ctx, spec));
		}
	} else {
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h) { /* a new key: its name is read only now */
			h = pm_lookup_or_try_init(&hists, &key, &zero_hist, key_string(ctx, spec),
						  &waits_dropped);
			if (!h)
				return 0;
		} else if (pm_names_pending()) { /* a name may be waiting to be read again */
			pm_read_key_name(&key, key_string(ctx, spec));
		}
	}
	pm_hist_add(h, duration_ns, unit_ns, unit_log2);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
