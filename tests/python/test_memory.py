# SPDX-License-Identifier: BSD-3-Clause
"""probemon.memory: exact allocations and frees at a known site, the cap,
the memory counter track in a profile, errors, tracemalloc alongside, fork."""

import json

import pytest

from chrome_trace import Trace
from support import run_script

# bytes(5000) is one allocation of 5,033 bytes (a 33-byte header).
BLOCK = 5033
MAKE = """
        import probemon
        def make():
            return [bytes(5000) for _ in range(100)]
"""  # indented like the scripts below, which run_script() dedents with it


def history(tmp_path, name="memory.json"):
    with open(tmp_path / name) as f:
        doc = json.load(f)
    assert doc["format"] == "probemon-memory-history" and doc["version"] == 1
    assert doc["event_fields"] == ["t_ns", "action", "address", "size", "site"]
    return doc


def at_site(doc, function, action, size):
    sites = {i for i, frames in enumerate(doc["sites"]) if frames and frames[0]["function"] == function}
    return [e for e in doc["events"] if e[4] in sites and e[1] == action and e[3] == size]


def test_allocations_and_frees_at_their_site(tmp_path):
    run_script(tmp_path, MAKE + """
        probemon.memory.start(frames=2)
        kept = make()
        del kept[60:]
        probemon.memory.stop()
        probemon.memory.export_memory_history("memory.json")
    """)
    doc = history(tmp_path)
    allocs = at_site(doc, "make.<locals>.<listcomp>", "alloc", BLOCK)
    frees = at_site(doc, "make.<locals>.<listcomp>", "free", BLOCK)
    assert (len(allocs), len(frees)) == (100, 40)
    assert {e[2] for e in frees} <= {e[2] for e in allocs}  # frees of blocks seen allocated
    (site,) = {e[4] for e in allocs}
    assert [f["function"] for f in doc["sites"][site]] == ["make.<locals>.<listcomp>", "make"]
    assert doc["sites"][site][0]["file"].endswith("script.py")
    assert doc["sites"][site][0]["line"] == 4
    times = [e[0] for e in doc["events"]]
    assert times == sorted(times) and doc["start_ns"] <= times[0] <= times[-1] <= doc["stop_ns"]
    assert doc["traced_bytes"] >= 60 * BLOCK
    assert doc["dropped"] == {"over_cap": 0, "no_memory": 0}


def test_the_cap_counts_what_it_drops(tmp_path):
    run_script(tmp_path, MAKE + """
        probemon.memory.start(max_entries=10)
        kept = make()
        probemon.memory.stop()
        probemon.memory.export_memory_history("memory.json")
    """)
    doc = history(tmp_path)
    assert len(doc["events"]) == 10 and doc["max_entries"] == 10
    assert doc["dropped"]["over_cap"] >= 100 - 10


def test_a_profile_gets_a_memory_counter_track(tmp_path):
    run_script(tmp_path, MAKE + """
        with probemon.profile("trace.json", memory=True, counter_interval_ms=0):
            kept = make()
        assert not probemon.memory.running()
    """)
    samples = Trace(tmp_path / "trace.json").counter("python.memory.traced_bytes")
    assert len(samples) == 2  # at start and at stop
    assert samples[-1][1] >= 100 * BLOCK


def test_errors():
    import probemon
    probemon.memory.stop()  # before start: harmless
    probemon.memory.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            probemon.memory.start()
        with pytest.raises(ValueError, match="frames must be 1 to 64"):
            probemon.memory._probemon._memory_start(frames=0)
    finally:
        probemon.memory.stop()
    probemon.memory.stop()
    with pytest.raises(FileNotFoundError) as raised:
        probemon.memory.export_memory_history("/nonexistent-dir/memory.json")
    assert raised.value.filename == "/nonexistent-dir/memory.json"


def test_tracemalloc_started_later_keeps_working(tmp_path):
    run_script(tmp_path, MAKE + """
        import tracemalloc
        probemon.memory.start()
        tracemalloc.start()     # wraps probemon's hooks
        probemon.memory.stop()  # cannot unhook: passes through from now on
        kept = make()
        current, _ = tracemalloc.get_traced_memory()
        assert current >= 100 * 5033, current
        tracemalloc.stop()
        probemon.memory.start()  # a new history, hooked again on top
        kept2 = make()
        probemon.memory.stop()
        probemon.memory.export_memory_history("memory.json")
    """)
    # Only the second history's allocations, each recorded once.
    assert len(at_site(history(tmp_path), "make.<locals>.<listcomp>", "alloc", BLOCK)) == 100


def test_fork_child_does_not_trace(tmp_path):
    run_script(tmp_path, MAKE + """
        import os
        probemon.memory.start()
        pid = os.fork()
        if pid == 0:
            code = 0 if not probemon.memory.running() else 1
            kept = make()
            probemon.memory.start()  # the child may trace on its own
            kept = make()
            probemon.memory.stop()
            probemon.memory.export_memory_history("child.json")
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        probemon.memory.stop()
        probemon.memory.export_memory_history("parent.json")
    """)
    assert len(at_site(history(tmp_path, "child.json"), "make.<locals>.<listcomp>", "alloc",
                       BLOCK)) == 100
    assert at_site(history(tmp_path, "parent.json"), "make.<locals>.<listcomp>", "alloc",
                   BLOCK) == []
