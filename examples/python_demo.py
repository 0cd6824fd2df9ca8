# SPDX-License-Identifier: BSD-3-Clause
"""probemon's Python demo: a small job server, profiled into one trace.

    PYTHONPATH=build/python /usr/bin/python3 examples/python_demo.py demo.json

Three worker threads take jobs from a queue. Each job parses its input
(Python calls), takes a shared lock (a WaitCounter wait: how long it waited
for the lock), and every tenth job builds a large cyclic structure, so the
garbage collector runs. The queue's depth is a DynamicCounter. Open
demo.json in https://ui.perfetto.dev: a track per thread with the calls,
the lock waits under them and the GC runs, and counter tracks for the queue
depth and the traced memory.
"""

import queue
import sys
import threading
import time

import probemon

lock_wait = probemon.WaitCounter("demo.lock_wait")
jobs = queue.Queue()
lock = threading.Lock()
done = []


def parse(text):
    return [int(field) for field in text.split(",")]


def checksum(values):
    return sum(v * v for v in values) % 1_000_003


def build_graph(size):
    nodes = [{"id": i} for i in range(size)]
    for a, b in zip(nodes, nodes[1:] + nodes[:1]):
        a["next"] = b  # a cycle: only the collector frees it
    return len(nodes)


def handle(job):
    values = parse(job)
    with lock_wait.guard():  # the wait for the lock
        lock.acquire()
    try:
        time.sleep(0.001)  # the critical section
        done.append(checksum(values))
    finally:
        lock.release()
    if len(done) % 10 == 0:
        build_graph(20_000)


def worker():
    while (job := jobs.get()) is not None:
        handle(job)


def main():
    with probemon.DynamicCounter("demo.queue_depth", jobs.qsize):
        for i in range(60):
            jobs.put(",".join(str(i * k) for k in range(50)))
        threads = [threading.Thread(target=worker, name=f"worker-{n}") for n in range(3)]
        for t in threads:
            jobs.put(None)
            t.start()
        for t in threads:
            t.join()


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "demo.json"
    with probemon.profile(path, memory=True, counter_interval_ms=1):
        main()
    print(f"{len(done)} jobs; trace written to {path}: open it in https://ui.perfetto.dev")
