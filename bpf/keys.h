/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* Keys of the maps every program shares with user space: a wait counter or
 * DynamicCounter key in one image of one process (generations.bpf.h), and
 * its name, read from the process once, when the key_id is first seen. */
#ifndef PROBEMON_BPF_KEYS_H
#define PROBEMON_BPF_KEYS_H

#include <linux/types.h>

/* Bytes of a key name kept, NUL included; longer names are cut and marked. */
#define PM_KEY_MAX 128

struct pm_key {
	__u32 pid;        /* tgid, as the host sees it */
	__u32 generation; /* which image of that pid: 0 first, +1 per exec or reuse */
	__u64 key_id;
};

/* The generation of a process first seen when the tool's table of them was
 * full: its images are not told apart. */
#define PM_GENERATION_UNTRACKED 0xFFFFFFFFu

struct pm_key_name {
	char name[PM_KEY_MAX];
	__u32 truncated;  /* the name in the process is longer than name[] */
	__u32 unread;     /* could not be read yet (name[] is empty): retried */
};

#endif
