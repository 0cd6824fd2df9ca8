/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* Process images: every map keyed by process names a key (or a wait) by
 * (pid, generation, id), so keys of two images of one pid are never mixed
 * up. After exec() the pid stays and the new image numbers its keys and
 * waits from 1 again; once a process is gone, its pid may go to a new one.
 * A generation numbers the images of one pid the tool has seen, from 0:
 *  - -p (target_pid set): one process, whose generation is a global: one
 *    load on the hot path, bumped at each exec of the target;
 *  - --path: a map pid -> generation, entered at a process's first probe hit
 *    and bumped when the process executes a new image (sched_process_exec)
 *    and when a new task is created with its pid (task_newtask: the pid was
 *    reused). Those tracepoints cost one failed lookup in any other process.
 * Every tracepoint field read here (task_newtask's pid, the first) has kept
 * its offset since the tracepoint was added; no BTF is needed. Included once
 * per program, through keys.bpf.h; the tool attaches the tracepoint programs
 * (pm_track_*) before any probe. */
#ifndef PROBEMON_BPF_GENERATIONS_BPF_H
#define PROBEMON_BPF_GENERATIONS_BPF_H

#include <asm-generic/errno-base.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "keys.h"

/* -p: the process traced (the tool sets it before load); 0 for --path. */
const volatile __u32 target_pid = 0;

/* -p: the target's execs seen since the tool attached. */
__u32 target_generation = 0;

/* --path: the generation of each process seen. Sized by the tool (--max-keys). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} generations SEC(".maps");

/* --path: probe hits of processes first seen while the generations map was
 * full (counted per hit: there is no room to remember the process): their
 * keys get PM_GENERATION_UNTRACKED, so a later image of their pid would be
 * mixed up with theirs. */
__u64 generations_dropped = 0;

/* The generation of the process `pid`, the current task's. */
static __always_inline __u32 pm_generation(__u32 pid)
{
	const __u32 first = 0;
	__u32 *generation;
	long err;

	if (target_pid)
		return target_generation;
	generation = bpf_map_lookup_elem(&generations, &pid);
	if (generation)
		return *generation;
	err = bpf_map_update_elem(&generations, &pid, &first, BPF_NOEXIST);
	if (err && err != -EEXIST) { /* EEXIST: another thread of it got there first */
		__sync_fetch_and_add(&generations_dropped, 1);
		return PM_GENERATION_UNTRACKED;
	}
	generation = bpf_map_lookup_elem(&generations, &pid);
	return generation ? *generation : first;
}

/* The pid's next image begins, if the pid was seen. */
static __always_inline void pm_next_generation(__u32 pid)
{
	__u32 *generation = bpf_map_lookup_elem(&generations, &pid);

	if (generation)
		__sync_fetch_and_add(generation, 1);
}

SEC("tp/sched/sched_process_exec")
int pm_track_exec(void *ctx)
{
	/* The task that executes is the process's only thread by now. */
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	if (!target_pid)
		pm_next_generation(pid);
	else if (pid == target_pid)
		__sync_fetch_and_add(&target_generation, 1);
	return 0;
}

/* task_newtask's record: its first field is the new task's pid. */
struct pm_task_newtask {
	__u64 common;
	__s32 pid;
};

/* --path only. A new process, or a new thread (which cannot have the pid of
 * a live process), with a pid seen before: that process is gone. */
SEC("tp/task/task_newtask")
int pm_track_newtask(struct pm_task_newtask *ctx)
{
	pm_next_generation(ctx->pid);
	return 0;
}

#endif
