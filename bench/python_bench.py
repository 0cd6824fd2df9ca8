# SPDX-License-Identifier: BSD-3-Clause
"""Costs of the probemon Python module, side by side in one run.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py

- The tracer's per-call overhead against cProfile's on the same recursive
  workload (fib), each round running the plain workload, cProfile and
  probemon.profile() back to back; CPU time of the thread (so time the VM
  gives to other processes is not counted), medians over the rounds.
- Bytes per recorded call: the process's resident memory growth over a
  large recording, per call.
- A detached `with counter.guard():` against `with contextlib.nullcontext():`
  (and `with counter:`), per statement, medians over rounds of timeit.
- The memory tracer's cost per allocation against tracemalloc's.
"""

import contextlib
import cProfile
import gc
import os
import statistics
import sys
import tempfile
import time
import timeit
import tracemalloc

import probemon

ROUNDS = 15
FIB_N = 22
FIB_CALLS = 57313  # calls fib(22) makes


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def cpu_ns_per_call(run):
    start = time.thread_time_ns()
    run()
    return (time.thread_time_ns() - start) / FIB_CALLS


def plain():
    return cpu_ns_per_call(lambda: fib(FIB_N))


def under_cprofile():
    profiler = cProfile.Profile()
    profiler.enable()
    cost = cpu_ns_per_call(lambda: fib(FIB_N))
    profiler.disable()
    return cost


def under_probemon():
    profiler = probemon.Profiler(log_gc=False)
    profiler.start()
    cost = cpu_ns_per_call(lambda: fib(FIB_N))
    profiler.stop()
    return cost


def tracer():
    rows = {"plain": [], "cProfile": [], "probemon": []}
    ratios = []
    for _ in range(ROUNDS):
        base, cp, pm = plain(), under_cprofile(), under_probemon()
        rows["plain"].append(base)
        rows["cProfile"].append(cp)
        rows["probemon"].append(pm)
        ratios.append((pm - base) / (cp - base))
    base = statistics.median(rows["plain"])
    print(f"## tracer: fib({FIB_N}), {FIB_CALLS} calls, {ROUNDS} rounds, CPU ns per call (median)")
    print(f"{'':10} {'per call':>9} {'overhead':>9}")
    for name, values in rows.items():
        median = statistics.median(values)
        print(f"{name:10} {median:9.1f} {median - base:+9.1f}")
    print(f"probemon overhead / cProfile overhead: median {statistics.median(ratios):.2f} "
          f"(rounds: {min(ratios):.2f} to {max(ratios):.2f})")


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def bytes_per_call():
    n, calls = 27, 635621  # fib(27)
    with tempfile.TemporaryDirectory() as directory:
        profiler = probemon.Profiler(log_gc=False, max_events=2_000_000)
        gc.collect()
        before = resident_bytes()
        profiler.start()
        fib(n)
        profiler.stop()
        grown = resident_bytes() - before
        profiler.export_chrome_trace(os.path.join(directory, "trace.json"))
        assert profiler.dropped["python_calls_over_cap"] == 0
    print(f"## bytes per recorded call: resident memory grew {grown / calls:.1f} bytes per call "
          f"over {calls} calls (fib({n}))")


def guard():
    counter = probemon.WaitCounter("bench.detached")
    statements = {
        "pass": ("pass", {}),
        "with nullcontext()": ("with nullcontext(): pass",
                               {"nullcontext": contextlib.nullcontext}),
        "with counter.guard()": ("with counter.guard(): pass", {"counter": counter}),
        "with counter": ("with counter: pass", {"counter": counter}),
    }
    number = 200_000
    rows = {name: [] for name in statements}
    for _ in range(ROUNDS):
        for name, (statement, names) in statements.items():
            rows[name].append(timeit.timeit(statement, globals=names, number=number) / number * 1e9)
    medians = {name: statistics.median(values) for name, values in rows.items()}
    print(f"## detached wait counter, ns per statement (median of {ROUNDS} x {number})")
    for name, median in medians.items():
        print(f"{name:22} {median:7.1f}")
    print(f"counter.guard() / nullcontext(): "
          f"{medians['with counter.guard()'] / medians['with nullcontext()']:.2f}")


def allocations():
    n = 200_000

    def allocate():
        start = time.thread_time_ns()
        for _ in range(n):
            bytes(100)
        return (time.thread_time_ns() - start) / n

    def with_probemon():
        probemon.memory.start(max_entries=4 * n)
        cost = allocate()
        probemon.memory.stop()
        return cost

    def with_tracemalloc():
        tracemalloc.start(1)
        cost = allocate()
        tracemalloc.stop()
        return cost

    rows = {"plain": [], "tracemalloc": [], "probemon.memory": []}
    for _ in range(5):
        rows["plain"].append(allocate())
        rows["tracemalloc"].append(with_tracemalloc())
        rows["probemon.memory"].append(with_probemon())
    base = statistics.median(rows["plain"])
    print("## memory tracer: bytes(100) in a loop, CPU ns per allocation (median of 5)")
    for name, values in rows.items():
        median = statistics.median(values)
        print(f"{name:16} {median:7.1f} {median - base:+7.1f}")


if __name__ == "__main__":
    print(f"python {sys.version.split()[0]} ({sys.executable}), probemon from "
          f"{os.path.dirname(probemon.__file__)}")
    tracer()
    bytes_per_call()
    guard()
    allocations()
