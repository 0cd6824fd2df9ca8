/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* Slow waits, one by one: every wait__done at or above min_ns goes to a BPF
 * ring buffer; records that do not fit are counted, never silently lost. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

#include "trace.h"
#include "keys.bpf.h"

const volatile __u64 min_ns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* sized by the tool before load (--ringbuf-kb) */
} events SEC(".maps");

/* Records the ring buffer had no room for. */
__u64 events_lost = 0;

SEC("usdt")
int BPF_USDT(handle_wait_done, const char *name, __u64 key_id, __u64 wait_id, __u64 start_ns,
	     __u64 duration_ns)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct pm_key key = { .pid = pid_tgid >> 32, .key_id = key_id };
	struct pm_trace_event *e;

	if (duration_ns < min_ns)
		return 0;
	key.generation = pm_generation(key.pid);
	pm_record_key_name(&key, name);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&events_lost, 1);
		return 0;
	}
	e->pid = key.pid;
	e->tid = (__u32)pid_tgid;
	e->generation = key.generation;
	e->pad = 0;
	e->key_id = key_id;
	e->wait_id = wait_id;
	e->start_ns = start_ns;
	e->duration_ns = duration_ns;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
