/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* Open waits: wait__start inserts (pid, wait_id) into an LRU hash,
 * wait__done removes it; the tool lists the entries older than a threshold
 * (the "what is stuck" view). */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

#include "inflight.h"
#include "keys.bpf.h"

/* Set by the tool once every probe is attached: a wait that started later
 * must have its start entry, so a wait__done that finds none proves the
 * LRU evicted it. */
__u64 attached_ns = ~0ULL;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1); /* sized by the tool before load (--max-waits) */
	__type(key, struct pm_wait_key);
	__type(value, struct pm_wait);
} waits SEC(".maps");

/* Open waits the LRU evicted to make room (seen when they finish). */
__u64 waits_evicted = 0;

SEC("usdt")
int BPF_USDT(handle_wait_start, const char *name, __u64 key_id, __u64 wait_id, __u64 start_ns)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct pm_wait_key wkey = { .pid = pid_tgid >> 32, .wait_id = wait_id };
	struct pm_key key = { .pid = pid_tgid >> 32, .key_id = key_id };
	struct pm_wait wait = { .key_id = key_id, .start_ns = start_ns, .tid = (__u32)pid_tgid };

	pm_record_key_name(&key, name);
	bpf_map_update_elem(&waits, &wkey, &wait, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(handle_wait_done, const char *name, __u64 key_id, __u64 wait_id, __u64 start_ns)
{
	struct pm_wait_key wkey = { .pid = bpf_get_current_pid_tgid() >> 32, .wait_id = wait_id };

	if (bpf_map_delete_elem(&waits, &wkey) && start_ns > attached_ns)
		__sync_fetch_and_add(&waits_evicted, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
