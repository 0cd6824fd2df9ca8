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
 * without them. */
__u64 names_dropped = 0;

/* Reads the key string once per key: true if key_names has the name (now or
 * already), false if it is full. */
static __always_inline bool pm_name_key(const struct pm_key *key, const char *user_name)
{
	struct pm_key_name value = {};
	char next = 0;
	long len, err;

	if (bpf_map_lookup_elem(&key_names, key))
		return true;
	len = bpf_probe_read_user_str(value.name, sizeof(value.name), user_name);
	/* A full buffer is a cut name unless the byte after it ends the string. */
	if (len == sizeof(value.name) &&
	    (bpf_probe_read_user(&next, 1, user_name + sizeof(value.name) - 1) || next))
		value.truncated = 1;
	err = bpf_map_update_elem(&key_names, key, &value, BPF_NOEXIST);
	return !err || err == -EEXIST; /* EEXIST: another CPU got there first */
}

/* pm_name_key() for an event recorded whatever happens to the name: a name
 * that does not fit is counted in names_dropped. Callers reach this only when
 * the key is new to their own maps (or, for trace, on each slow event). */
static __always_inline void pm_record_key_name(const struct pm_key *key, const char *user_name)
{
	if (!pm_name_key(key, user_name))
		__sync_fetch_and_add(&names_dropped, 1);
}

/* The value of `key` in `map` (a hash keyed by struct pm_key), created from
 * `init` if the key is new to it, after its name (`user_name`) was kept, so a
 * reader that finds the value finds the name. NULL if either map is full,
 * which is counted in *dropped: the key_names map, sized like the program's
 * own, bounds the keys that one program keeps (--max-keys). */
static __always_inline void *pm_lookup_or_try_init(void *map, const struct pm_key *key,
						   const void *init, const char *user_name,
						   __u64 *dropped)
{
	void *value = bpf_map_lookup_elem(map, key);
	long err;

	if (value)
		return value;
	if (!pm_name_key(key, user_name)) {
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
