/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* DynamicCounters and key registrations: counter__register,
 * counter__unregister and the sampler's dynamic__value update one record per
 * (pid, generation, key_id) that the tool reads every interval. These probes
 * fire at sampling rate, not per wait, so a plain shared hash is enough. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

#include "counters.h"
#include "keys.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized by the tool before load */
	__type(key, struct pm_key);
	__type(value, struct pm_counter);
} counters SEC(".maps");

/* Counter events not recorded because the counters map was full. */
__u64 counters_dropped = 0;

static __always_inline struct pm_counter *counter_of(const char *name, __u64 key_id, __u32 kind)
{
	struct pm_key key = { .pid = bpf_get_current_pid_tgid() >> 32, .key_id = key_id };
	struct pm_counter fresh = { .kind = kind };

	key.generation = pm_generation(key.pid);
	return pm_lookup_or_try_init(&counters, &key, &fresh, name, &counters_dropped);
}

/* counter__register and counter__unregister: count one of them in the key's
 * record. */
static __always_inline int count_registration(const char *name, __u64 key_id, int kind,
					      bool unregister)
{
	struct pm_counter *c = counter_of(name, key_id, kind);

	if (c) {
		c->kind = kind;
		__sync_fetch_and_add(unregister ? &c->unregistered : &c->registered, 1);
	}
	return 0;
}

SEC("usdt")
int BPF_USDT(handle_register, const char *name, __u64 key_id, int kind)
{
	return count_registration(name, key_id, kind, false);
}

SEC("usdt")
int BPF_USDT(handle_unregister, const char *name, __u64 key_id, int kind)
{
	return count_registration(name, key_id, kind, true);
}

SEC("usdt")
int BPF_USDT(handle_value, const char *name, __u64 key_id, __s64 value)
{
	/* The sampler only reads DynamicCounters. */
	struct pm_counter *c = counter_of(name, key_id, PROBEMON_KIND_DYNAMIC_COUNTER);

	if (c) {
		c->value = value;
		c->sampled_ns = bpf_ktime_get_ns();
		__sync_fetch_and_add(&c->samples, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
