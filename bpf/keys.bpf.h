/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* BPF side of keys.h: the key-name map and the helper that fills it, for
 * every program that sees a `key` argument, and the one way a program adds a
 * key to a map of its own. Keys are per process image (generations.bpf.h).
 * Included once per program. */
#ifndef PROBEMON_BPF_KEYS_BPF_H
#define PROBEMON_BPF_KEYS_BPF_H

#include <asm-generic/errno-base.h>
#include <stdbool.h>

#include "generations.bpf.h"
#include "keys.h"

/* Sized by the tool before load (--max-keys), like every map here.
 * Preallocated, like every map the probes insert into: a map that allocates
 * on insert fails (ENOMEM) under a burst of new keys, which would lose
 * waits. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct pm_key);
	__type(value, struct pm_key_name);
} key_names SEC(".maps");

/* Names that did not fit in key_names (map full), of events recorded
 * without them: per event, in the programs that keep no record per key
 * (trace, inflight). A program that keeps one (pm_lookup_or_try_init())
 * keeps no key without its name and counts the event in its own drops. */
__u64 names_dropped = 0;
/* Keys whose name could not be read when first seen (the page holding it was
 * not in memory, or the pointer was bad), once per key: such a key gets an
 * entry marked unread, which the tool shows as unknown, and its name is read
 * again on the key's later hits until it can be. */
__u64 names_unread = 0;
/* Unread entries in key_names now. While there are any, every hit also
 * checks its key's name: one load and a branch per hit otherwise. */
__s64 names_pending = 0;

static __always_inline bool pm_names_pending(void)
{
	return names_pending > 0;
}

/* Makes sure key_names has the name of `key`, reading it from the process
 * if it has none or only an unread one. Returns -1 if key_names was full,
 * 0 otherwise; counts nothing but unread names. */
static __always_inline int pm_read_key_name(const struct pm_key *key, const char *user_name)
{
	struct pm_key_name value = {};
	struct pm_key_name *known;
	char next = 0;
	long len, err;

	known = bpf_map_lookup_elem(&key_names, key);
	if (known && !known->unread)
		return 0;
	len = bpf_probe_read_user_str(value.name, sizeof(value.name), user_name);
	if (len < 0) {
		if (known) /* still unreadable: the next hit tries again */
			return 0;
		__builtin_memset(&value, 0, sizeof(value));
		value.unread = 1;
		err = bpf_map_update_elem(&key_names, key, &value, BPF_NOEXIST);
		if (!err) { /* this CPU added the key's entry: count the key once */
			__sync_fetch_and_add(&names_unread, 1);
			__sync_fetch_and_add(&names_pending, 1);
		}
		return err && err != -EEXIST ? -1 : 0;
	}
	/* A full buffer is a cut name unless the byte after it ends the string. */
	if (len == sizeof(value.name) &&
	    (bpf_probe_read_user(&next, 1, user_name + sizeof(value.name) - 1) || next))
		value.truncated = 1;
	/* Read at last: the unread entry goes, the named one comes. Only the CPU
	 * whose delete succeeds counts it; a reader sees no entry meanwhile
	 * (an unknown name), never a torn one. */
	if (known && !bpf_map_delete_elem(&key_names, key))
		__sync_fetch_and_add(&names_pending, -1);
	err = bpf_map_update_elem(&key_names, key, &value, BPF_NOEXIST);
	return err && err != -EEXIST ? -1 : 0; /* EEXIST: another CPU got there first */
}

/* Reads the key string once per (pid, generation, key_id), again while it is unread,
 * for a caller that keeps no record of its own per key. Callers reach this
 * only when the key is new to their own maps, names are pending, or (for
 * trace and inflight) on each event. */
static __always_inline void pm_record_key_name(const struct pm_key *key, const char *user_name)
{
	if (pm_read_key_name(key, user_name))
		__sync_fetch_and_add(&names_dropped, 1);
}

/* The value of `key` in `map` (a hash keyed by struct pm_key), created from
 * `init` if the key is new to it, after its name (`user_name`) was kept,
 * perhaps as unread, so a reader that finds the value finds the name. NULL
 * if either map is full, which is counted in *dropped: the key_names map,
 * sized like the program's own, bounds the keys that one program keeps
 * (--max-keys). */
static __always_inline void *pm_lookup_or_try_init(void *map, const struct pm_key *key,
						   const void *init, const char *user_name,
						   __u64 *dropped)
{
	void *value = bpf_map_lookup_elem(map, key);
	long err;

	if (value) {
		if (pm_names_pending())
			pm_read_key_name(key, user_name);
		return value;
	}
	if (pm_read_key_name(key, user_name)) {
		__sync_fetch_and_add(dropped, 1);
		return 0;
	}
	err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (err && err != -EEXIST) { /* EEXIST: another CPU added it */
		__sync_fetch_and_add(dropped, 1);
		return 0;
	}
	return bpf_map_lookup_elem(map, key);
}

#endif
