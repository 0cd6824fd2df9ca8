# SPDX-License-Identifier: BSD-3-Clause
"""probemon.profile() and probemon.Profiler on known programs: exact call
counts and nesting, every thread, the stack open at start, generators and
coroutines, exceptions, C calls, GC, wait counter spans and DynamicCounter
tracks on the same timeline, restart and fork().

Each program runs as its own script, so its Python stack is short and known.
"""

import ast
import textwrap

from support import FIB, line_of, profiled, run_script
from chrome_trace import Trace

def test_recursion_is_recorded_call_by_call(tmp_path):
    trace = profiled(tmp_path, "fib(6)", prelude=FIB)
    fibs = trace.named("fib")
    assert len(fibs) == 25  # fib(6) makes 25 calls
    top = [s for s in fibs if s.parent.name != "fib"]
    assert len(top) == 1 and top[0].parent.name == "main"
    assert top[0].parent.parent.name == "<module>"
    assert max(s.depth for s in fibs) - top[0].depth == 5  # fib(6) ... fib(1)
    for span in fibs:
        assert len(span.children) in (0, 2)
        assert span.args["location"] == f"{tmp_path / 'script.py'}:{line_of(tmp_path, 'def fib')}"
    # main() and the module were open at start and at stop.
    assert trace.named("main")[0].args.get("open_at_stop") is True
    assert trace.other["dropped_total"] == 0


def test_exceptions_unwinding_close_every_frame(tmp_path):
    trace = profiled(tmp_path, """
        for _ in range(3):
            try:
                outer()
            except KeyError:
                pass
        after()
    """, prelude="""
        def inner():
            raise KeyError("x")
        def middle():
            inner()
        def outer():
            middle()
        def after():
            pass
    """)
    for name in ("outer", "middle", "inner"):
        assert len(trace.named(name)) == 3
    for inner in trace.named("inner"):
        assert inner.parent.name == "middle" and inner.parent.parent.name == "outer"
    (after,) = trace.named("after")
    assert after.parent.name == "main"  # not left inside an unwound frame


def test_each_generator_resumption_is_its_own_span(tmp_path):
    trace = profiled(tmp_path, """
        for value in numbers():
            consume(value)
    """, prelude="""
        def numbers():
            for i in range(3):
                yield i
        def consume(value):
            pass
    """)
    resumptions = trace.named("numbers")
    assert len(resumptions) == 4  # three yields, then the return
    assert all(s.parent.name == "main" for s in resumptions)
    consumed = trace.named("consume")
    assert len(consumed) == 3 and all(s.parent.name == "main" for s in consumed)
    # Interleaved: resume, consume, resume, consume, ...
    order = [s.name for s in sorted(resumptions + consumed, key=lambda s: s.ts)]
    assert order == ["numbers", "consume"] * 3 + ["numbers"]


def test_coroutines_are_a_span_per_resumption(tmp_path):
    trace = profiled(tmp_path, "asyncio.run(gather())", prelude="""
        import asyncio
        async def worker():
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            return 1
        async def gather():
            return await asyncio.gather(worker(), worker())
    """)
    assert len(trace.named("worker")) == 6  # two workers, each run three times
    assert all(s.parent is not None for s in trace.named("worker"))


def test_c_calls_only_with_log_c_calls(tmp_path):
    body = """
        for _ in range(3):
            measure([1, 2, 3])
    """
    prelude = """
        def measure(items):
            return len(items) + sorted(items)[0]
    """
    without = profiled(tmp_path, body, prelude=prelude)
    assert without.named("builtins.len") == [] and without.named("builtins.sorted") == []
    with_c = profiled(tmp_path, body, prelude=prelude, options="log_c_calls=True")
    for name in ("builtins.len", "builtins.sorted"):
        spans = with_c.named(name)
        assert len(spans) == 3 and all(s.parent.name == "measure" for s in spans)
        assert all(s.cat == "c" for s in spans)


def test_every_thread_is_recorded(tmp_path):
    trace = profiled(tmp_path, """
        started.set()  # the thread started before the profile runs now
        threads = [threading.Thread(target=fib, args=(5,), name=f"t{i}") for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        early.join()
    """, prelude=FIB + textwrap.dedent("""
        import threading
        started = threading.Event()
        def wait_then_work():
            started.wait()
            fib(4)
        early = threading.Thread(target=wait_then_work)
        early.start()
    """))
    by_thread = {}
    for span in trace.named("fib"):
        by_thread.setdefault(span.tid, []).append(span)
    main_tid = trace.named("main")[0].tid
    assert main_tid not in by_thread
    counts = sorted(len(spans) for spans in by_thread.values())
    assert counts == [9, 15, 15, 15]  # fib(4) on the early thread, fib(5) on the three new ones
    early_tid = next(tid for tid, spans in by_thread.items() if len(spans) == 9)
    # The early thread's open frames at start (its target, waiting) are spans too.
    (target,) = trace.named("wait_then_work", tid=early_tid)
    assert all(s.parent is target or s.parent.name == "fib" for s in by_thread[early_tid])


def test_the_stack_open_at_start_is_recorded(tmp_path):
    run_script(tmp_path, """
        import probemon
        profiler = probemon.Profiler()

        def deep(n):
            if n == 0:
                profiler.start()   # ten deep() frames are open
                leaf()
            else:
                deep(n - 1)
                leaf()

        def leaf():
            pass

        deep(9)
        profiler.stop()
        profiler.export_chrome_trace("trace.json")
    """)
    trace = Trace(tmp_path / "trace.json")
    deeps = sorted(trace.named("deep"), key=lambda s: s.depth)
    assert len(deeps) == 10
    assert len({s.ts for s in deeps}) == 1  # all open when recording started
    assert [s.depth for s in deeps] == list(range(1, 11))  # under <module>
    assert not any(s.args.get("open_at_stop") for s in deeps)  # they returned
    leaves = trace.named("leaf")
    assert len(leaves) == 10 and all(s.parent.name == "deep" for s in leaves)


def test_stop_and_start_again(tmp_path):
    run_script(tmp_path, """
        import probemon
        def first(): pass
        def second(): pass
        profiler = probemon.Profiler()
        profiler.start()
        first()
        profiler.stop()
        profiler.export_chrome_trace("one.json")
        profiler.restart()
        second(); second()
        profiler.stop()
        profiler.export_chrome_trace("two.json")
        with probemon.profile("three.json"):
            first()
    """)
    one, two, three = (Trace(tmp_path / f"{n}.json") for n in ("one", "two", "three"))
    assert (len(one.named("first")), len(one.named("second"))) == (1, 0)
    assert (len(two.named("first")), len(two.named("second"))) == (0, 2)
    assert (len(three.named("first")), len(three.named("second"))) == (1, 0)


def test_gc_runs_are_spans(tmp_path):
    trace = profiled(tmp_path, "collect()", prelude="""
        import gc
        def collect():
            gc.collect()
    """)
    (run,) = trace.named("gc (generation 2)")
    assert run.cat == "gc" and run.parent.name == "collect"
    without = profiled(tmp_path, "collect()", options="log_gc=False", prelude="""
        import gc
        def collect():
            gc.collect()
    """)
    assert without.named("gc (generation 2)") == []


def test_waits_and_counters_share_the_timeline(tmp_path):
    trace = profiled(tmp_path, """
        for _ in range(2):
            flush()
    """, options="counter_interval_ms=0", prelude="""
        wait = probemon.WaitCounter("test.flush")
        def broken():
            raise RuntimeError("no value")
        def flush():
            with wait.guard():
                pass
        depth = probemon.DynamicCounter("test.depth", lambda: 7)
        broken_counter = probemon.DynamicCounter("test.broken", broken)
    """)
    waits = trace.named("test.flush")
    assert len(waits) == 2 and all(w.cat == "wait" and w.parent.name == "flush" for w in waits)
    assert [v for _, v in trace.counter("test.depth")] == [7, 7]  # at start and at stop
    assert trace.counter("test.broken") == []
    assert trace.dropped["counter_callback_failed"] == 2


def test_fork_child_records_nothing_of_the_parent(tmp_path):
    run_script(tmp_path, """
        import os, probemon
        def parent_work(): pass
        def child_work(): pass
        with probemon.profile("parent.json"):
            parent_work()
            pid = os.fork()
            if pid == 0:  # the parent's profile stopped here: the child may start its own
                with probemon.profile("child.json"):
                    child_work()
        if pid == 0:  # leaving the parent's profile wrote nothing
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        parent_work()
    """)
    parent = Trace(tmp_path / "parent.json")
    child = Trace(tmp_path / "child.json")
    assert len(parent.named("parent_work")) == 1 and parent.named("child_work") == []
    assert len(child.named("child_work")) == 1 and child.named("parent_work") == []
    assert {s.tid for s in parent.spans} != {s.tid for s in child.spans}


# Quotes, a backslash, a newline, a tab, a control byte, non-ASCII.
HOSTILE = r"""'q"uote \\ back\nnew line\ttab \x01 ctl ünï €'"""


def test_hostile_names_give_valid_json(tmp_path):
    trace = profiled(tmp_path, """
        weird()
        with probemon.WaitCounter(HOSTILE).guard():
            pass
        counter = probemon.DynamicCounter(HOSTILE, lambda: 1)  # alive at stop
    """, options="counter_interval_ms=0", prelude=f"""
        HOSTILE = {HOSTILE}
        def weird():
            pass
        weird.__code__ = weird.__code__.replace(co_qualname=HOSTILE,
                                                co_filename=HOSTILE + ".py")
    """)
    name = ast.literal_eval(HOSTILE)
    (call,) = [s for s in trace.named(name) if s.cat == "python"]
    assert call.args["location"] == f"{name}.py:{line_of(tmp_path, 'def weird')}"
    (wait,) = [s for s in trace.named(name) if s.cat == "wait"]
    assert wait.parent.name == "main"
    assert [v for _, v in trace.counter(name)] == [1]
