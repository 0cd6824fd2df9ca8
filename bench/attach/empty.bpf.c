/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* The baseline of the attached-cost benchmark: a BPF program that does
 * nothing, so its cost per hit is the uprobe trap and BPF dispatch alone. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h> /* libbpf's USDT attach needs its maps, even unused */

SEC("usdt")
int empty(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
