# SPDX-License-Identifier: BSD-3-Clause
"""The probemon tool attached to a Python process sees Python's waits and
DynamicCounters exactly: Python waits are C++ waits, firing the same probes
from libprobemon.so. Needs root (under CI=true a skip is a failure)."""

import json
import os
import textwrap

from support import python, require_tracing, tool, wait_attached

# Times 3 threads x (5 guard + 5 `with` + 5 decorated) waits on test.py.fast
# (1 ms each) and 2 waits on test.py.slow (20 ms), all after "go".
WAITS = textwrap.dedent("""
    import os, sys, threading, time
    import probemon

    fast = probemon.WaitCounter("test.py.fast")
    slow = probemon.WaitCounter("test.py.slow")

    @fast
    def decorated():
        time.sleep(0.001)

    def work():
        for _ in range(5):
            with fast.guard():
                time.sleep(0.001)
            with fast:
                time.sleep(0.001)
            decorated()

    print(f"ready pid={os.getpid()}", flush=True)
    assert sys.stdin.readline() == "go\\n"
    print("go", flush=True)
    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in range(2):
        with slow.guard():
            time.sleep(0.02)
""")


def test_hist_counts_python_waits_exactly():
    require_tracing()
    workload = python(["-c", WAITS])
    try:
        workload.wait_for_line(r"^ready pid=")
        hist = tool(["hist", "-p", str(workload.pid), "--json"])
        wait_attached(hist)
        workload.send("go\n")
        workload.wait_for_line(r"^go$")
        assert workload.wait() == 0, workload.err
        assert hist.wait() == 0, hist.lines
    finally:
        workload.kill()
    docs = [json.loads(line) for line in hist.lines if line.startswith("{")]
    assert len(docs) == 1, hist.lines
    keys = {k["key"]: k for k in docs[0]["keys"]}
    assert sorted(keys) == ["test.py.fast", "test.py.slow"]
    assert keys["test.py.fast"]["count"] == 45
    assert keys["test.py.fast"]["min_ns"] >= 1_000_000
    assert keys["test.py.slow"]["count"] == 2
    assert keys["test.py.slow"]["min_ns"] >= 20_000_000
    assert docs[0]["dropped"] == {"waits": 0, "batches": 0, "names": 0, "images": 0, "missed": 0}


# DynamicCounters made after "go", read by the tool's sampler; one callback
# raises and is counted, the others keep being sampled.
COUNTERS = textwrap.dedent("""
    import os, sys
    import probemon

    print(f"ready pid={os.getpid()}", flush=True)
    assert sys.stdin.readline() == "go\\n"

    def broken():
        raise RuntimeError("broken callback")

    counters = [probemon.DynamicCounter("test.py.depth", lambda: 42),
                probemon.DynamicCounter("test.py.big", lambda: -9_000_000_000),
                probemon.DynamicCounter("test.py.broken", broken)]
    print("go", flush=True)
    assert sys.stdin.readline() == "errors?\\n"
    print(f"errors={counters[2].errors}", flush=True)
    assert sys.stdin.readline() == "exit\\n"
""")


def test_counters_sees_python_values_and_counts_a_raising_callback():
    require_tracing()
    workload = python(["-c", COUNTERS], env={**os.environ, "PROBEMON_SAMPLE_MS": "50"})
    try:
        workload.wait_for_line(r"^ready pid=")
        counters = tool(["counters", "-p", str(workload.pid), "--interval", "0.1", "--json",
                         "--key", "test.py.*"])
        wait_attached(counters)
        workload.send("go\n")
        workload.wait_for_line(r"^go$")
        line = counters.wait_for_line(r'"samples":[1-9].*"samples":[1-9]')
        by_key = {c["key"]: c for c in json.loads(line)["counters"]}
        assert by_key["test.py.depth"]["value"] == 42
        assert by_key["test.py.big"]["value"] == -9_000_000_000
        assert by_key["test.py.broken"].get("samples", 0) == 0
        workload.send("errors?\n")
        errors = int(workload.wait_for_line(r"^errors=").split("=")[1])
        assert errors >= 1
        workload.send("exit\n")
        assert workload.wait() == 0, workload.err
        counters.proc.terminate()
        assert counters.wait() == 0, counters.lines
    finally:
        workload.kill()

