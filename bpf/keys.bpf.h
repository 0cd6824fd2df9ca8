/* BPF side of keys.h: the key-name map and the helper that fills it, for
 * every program that sees a `key` argument. Included once per program. */
#ifndef PROBEMON_BPF_KEYS_BPF_H
#define PROBEMON_BPF_KEYS_BPF_H

#include <asm-generic/errno-base.h>

#include "keys.h"

/* max_entries is set by the tool before load. Preallocated, like every map
 * the probes insert into: a map that allocates on insert fails (ENOMEM) under
 * a burst of new keys, which would lose waits. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PM_DEFAULT_MAX_KEYS);
	__type(key, struct pm_key);
	__type(value, struct pm_key_name);
} key_names SEC(".maps");

/* Names that did not fit in key_names (map full). */
__u64 names_dropped = 0;

/* Reads the key string once per (pid, key_id). Callers reach this only when
 * the key is new to their own maps (or, for trace, on each slow event). */
static __always_inline void pm_record_key_name(const struct pm_key *key, const char *user_name)
{
	struct pm_key_name value = {};
	char next = 0;
	long len, err;

	if (bpf_map_lookup_elem(&key_names, key))
		return;
	len = bpf_probe_read_user_str(value.name, sizeof(value.name), user_name);
	/* A full buffer is a cut name unless the byte after it ends the string. */
	if (len == sizeof(value.name) &&
	    (bpf_probe_read_user(&next, 1, user_name + sizeof(value.name) - 1) || next))
		value.truncated = 1;
	err = bpf_map_update_elem(&key_names, key, &value, BPF_NOEXIST);
	if (err && err != -EEXIST) /* EEXIST: another CPU got there first */
		__sync_fetch_and_add(&names_dropped, 1);
}

#endif
