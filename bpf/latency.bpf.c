/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* Latency histograms in the kernel: one wait__done hit per wait, or one
 * wait__batch hit per batch of waits (batched mode, src/WaitBatch.h), adds
 * each duration to a per-CPU histogram of (pid, generation, key_id). Nothing
 * goes to user space per event and no lock is shared between CPUs on the
 * hot path; the key string is read once, on the key's first wait. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

#include "latency.h"
#include "probemon_abi.h"
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

/* Batched mode (wait__batch): waits in batches not counted because their
 * records could not be read from the process; and the process's flusher
 * sweeps seen, which the tool waits for before it detaches
 * (src/BatchFlusher.h). */
__u64 batch_dropped = 0;
__u64 batch_sweeps = 0;

/* Records read from the process a chunk at a time: one bpf_probe_read_user()
 * per 32 waits. */
#define PM_BATCH_CHUNK 32
/* More waits than a probemon batch ever holds (src/WaitBatch.h: 2048) are
 * not read: counted in batch_dropped. */
#define PM_BATCH_MAX 65536

struct batch_chunk {
	struct pm_wait_record records[PM_BATCH_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct batch_chunk);
} batch_chunks SEC(".maps");

static const struct pm_hist zero_hist;

/* The `key` argument, read only for a key new to this CPU or to hists. */
static __always_inline const char *key_string(struct pt_regs *ctx, struct __bpf_usdt_spec *spec)
{
	long name;

	return pm_usdt_arg(ctx, spec, 0, &name) ? 0 : (const char *)name;
}

/* The key's name: wait__done's `key` argument (spec set), read only when
 * needed, or a batch record's (name). */
static __always_inline const char *key_name(struct pt_regs *ctx, struct __bpf_usdt_spec *spec,
					    const char *name)
{
	return spec ? key_string(ctx, spec) : name;
}

/* The pid and generation of the waits this hit reports, in `key`. */
static __always_inline void current_process(struct pm_key *key)
{
	if (target_pid) {
		/* The probes fire for the target only: no helper call for its pid. */
		key->pid = target_pid;
		key->generation = target_generation;
	} else {
		key->pid = bpf_get_current_pid_tgid() >> 32;
		key->generation = pm_generation(key->pid);
	}
}

/* Adds one wait of `key_id` lasting `duration_ns` to its histogram. `key`
 * holds the process; the key's name comes from key_name(). */
static __always_inline void count_wait(struct pm_key *key, long key_id, __u64 duration_ns,
				       struct pt_regs *ctx, struct __bpf_usdt_spec *spec,
				       const char *name)
{
	struct pm_hist *h = 0;
	__u32 slot;

	key->key_id = key_id;
	if (target_pid && key->generation == 0 && key_id > 0 && key_id <= 0xFFFFFFFFL) {
		slot = key_id - 1;
		h = bpf_map_lookup_elem(&hists_by_id, &slot);
	}
	if (h) {
		if (h->count == 0) { /* the key's first wait on this CPU: no name, no count */
			if (pm_read_key_name(key, key_name(ctx, spec, name))) {
				__sync_fetch_and_add(&waits_dropped, 1);
				return;
			}
		} else if (pm_names_pending()) { /* a name may be waiting to be read again */
			pm_read_key_name(key, key_name(ctx, spec, name));
		}
	} else {
		h = bpf_map_lookup_elem(&hists, key);
		if (!h) { /* a new key: its name is read only now */
			h = pm_lookup_or_try_init(&hists, key, &zero_hist, key_name(ctx, spec, name),
						  &waits_dropped);
			if (!h)
				return;
		} else if (pm_names_pending()) { /* a name may be waiting to be read again */
			pm_read_key_name(key, key_name(ctx, spec, name));
		}
	}
	pm_hist_add(h, duration_ns, unit_ns, unit_log2);
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

	if (!spec || pm_usdt_arg(ctx, spec, 1, &key_id) || pm_usdt_arg(ctx, spec, 4, &duration_ns))
		return 0;
	current_process(&key);
	count_wait(&key, key_id, duration_ns, ctx, spec, 0);
	return 0;
}

struct batch_state {
	const struct pm_wait_record *records;
	__u64 count;
	struct pm_key key;
	struct batch_chunk *chunk;
	bool chunk_read;
};

/* bpf_loop()'s body: wait `i` of the batch, reading its chunk first. */
static long count_record(__u64 i, void *state)
{
	struct batch_state *b = state;
	__u32 at = i % PM_BATCH_CHUNK;
	struct pm_wait_record *record;
	struct pm_key key;
	__u64 n;

	if (at == 0) {
		n = b->count - i;
		if (n > PM_BATCH_CHUNK)
			n = PM_BATCH_CHUNK;
		b->chunk_read = !bpf_probe_read_user(b->chunk->records, n * sizeof(*record),
						     b->records + i);
		if (!b->chunk_read)
			__sync_fetch_and_add(&batch_dropped, n);
	}
	if (!b->chunk_read)
		return 0;
	barrier_var(at);
	if (at >= PM_BATCH_CHUNK)
		return 0;
	record = &b->chunk->records[at];
	key = b->key;
	count_wait(&key, record->key_id, record->duration_ns, 0, 0, (const char *)record->key);
	return 0;
}

/* wait__batch(records, count): `count` waits as struct pm_wait_record at
 * `records` in the process, each counted as wait__done counts one. An empty
 * batch ends a sweep of the process's flusher. */
SEC("usdt")
int BPF_USDT(handle_wait_batch, const struct pm_wait_record *records, __u64 count)
{
	struct batch_state b = {.records = records, .count = count};
	const __u32 zero = 0;

	if (!records && !count) {
		__sync_fetch_and_add(&batch_sweeps, 1);
		return 0;
	}
	b.chunk = bpf_map_lookup_elem(&batch_chunks, &zero);
	if (!b.chunk || count > PM_BATCH_MAX) {
		__sync_fetch_and_add(&batch_dropped, count);
		return 0;
	}
	current_process(&b.key);
	bpf_loop(count, count_record, &b, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
