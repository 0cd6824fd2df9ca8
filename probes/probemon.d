/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The probemon USDT provider: the probe ABI that tools, bpftrace scripts and
 * users' one-liners depend on. Names and argument order are a public contract
 * (docs/probes.md); add probes, never change these.
 *
 * The build turns this file into the probe header (`dtrace -h`) and the object
 * holding one semaphore per probe (`dtrace -G`). Times are CLOCK_MONOTONIC
 * nanoseconds, the clock bpf_ktime_get_ns() reads.
 */
provider probemon {
  /* WaitCounterHandle::start() of a timed wait. */
  probe wait__start(const char *key, uint64_t key_id, uint64_t wait_id,
                    uint64_t start_ns);
  /* A timed wait stopped: guard destroyed or stop() called. */
  probe wait__done(const char *key, uint64_t key_id, uint64_t wait_id,
                   uint64_t start_ns, uint64_t duration_ns);
  /* Batched mode (docs/probes.md): fires once per batch of `count` timed
     waits, each a struct pm_wait_record (probemon_abi.h) at `records`,
     while its semaphore is raised. A batch with count 0 and records 0 ends
     a sweep of the process's flusher. Declared right after wait__done, so
     the semaphores of the three wait probes are adjacent: the inline
     WaitCounterHandle::start() tests them with one load (the build checks
     the layout, probes/CMakeLists.txt). */
  probe wait__batch(const void *records, uint64_t count);
  /* A wait counter key was first created (kind 0) or a DynamicCounter was
     constructed (kind 1). */
  probe counter__register(const char *key, uint64_t key_id, int kind);
  /* A DynamicCounter was destroyed (kind 1). */
  probe counter__unregister(const char *key, uint64_t key_id, int kind);
  /* The sampler read a DynamicCounter; fires only while attached. */
  probe dynamic__value(const char *key, uint64_t key_id, int64_t value);
};
