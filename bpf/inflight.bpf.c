/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* Open waits: wait__start inserts (pid, generation, wait_id) into a hash,
 * wait__done removes it; the tool lists the entries older than a threshold
 * (the "what is stuck" view).
 *
 * Exact, given the tool's order: it attaches wait__done before wait__start
 * and detaches in the reverse order, so every wait whose start was recorded
 * has its end seen while the tool is attached, and no entry is left behind
 * by a missed end. The map is a preallocated hash, not an LRU: nothing is
 * evicted, and a start that finds it full is counted at once, exactly. The
 * entries of an image that is gone (its process executed another or exited)
 * are left for the tool to drop, by their generation. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

#include "inflight.h"
#include "keys.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized by the tool before load (--max-waits) */
	__type(key, struct pm_wait_key);
	__type(value, struct pm_wait);
} waits SEC(".maps");

/* Waits not tracked: more open at once than the map holds. */
__u64 waits_untracked = 0;

SEC("usdt")
int BPF_USDT(handle_wait_start, const char *name, __u64 key_id, __u64 wait_id, __u64 start_ns)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = pid_tgid >> 32;
	__u32 generation = pm_generation(pid);
	struct pm_wait_key wkey = { .pid = pid, .generation = generation, .wait_id = wait_id };
	struct pm_key key = { .pid = pid, .generation = generation, .key_id = key_id };
	struct pm_wait wait = { .key_id = key_id, .start_ns = start_ns, .tid = (__u32)pid_tgid };

	pm_record_key_name(&key, name);
	/* Wait ids are unique in an image: the only failure is a full map. */
	if (bpf_map_update_elem(&waits, &wkey, &wait, BPF_NOEXIST))
		__sync_fetch_and_add(&waits_untracked, 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(handle_wait_done, const char *name, __u64 key_id, __u64 wait_id)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct pm_wait_key wkey = { .pid = pid, .generation = pm_generation(pid), .wait_id = wait_id };

	/* Not found: the wait started before wait__start was attached. */
	bpf_map_delete_elem(&waits, &wkey);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
