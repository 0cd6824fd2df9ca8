/* SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0-only) */
/* latency.bpf.c <-> tool: per (pid, generation, key_id) histograms of
 * wait__done's duration_ns: for the first image of one process (-p) a per-CPU
 * array indexed by key_id - 1, for every other key a per-CPU hash (struct
 * pm_key -> struct pm_hist). */
#ifndef PROBEMON_BPF_LATENCY_H
#define PROBEMON_BPF_LATENCY_H

#include "hist.h"
#include "keys.h"

#endif
