# SPDX-License-Identifier: BSD-3-Clause
"""Each option of probemon.profile() changes the trace as documented, and
bad options, nested profiles and bad paths get clear errors."""

import os
import textwrap

import pytest

import probemon
from support import FIB, profiled, run_script
from chrome_trace import Trace


def test_max_stack_depth_counts_below_where_the_profile_started(tmp_path):
    # The with block in main() is where the profile starts: fib(6) is level 1.
    trace = profiled(tmp_path, "fib(6)", prelude=FIB, options="max_stack_depth=2")
    assert len(trace.named("fib")) == 3
    assert {s.depth for s in trace.named("fib")} == {2, 3}  # under <module> and main


def test_frames_open_at_start_can_be_left_out(tmp_path):
    trace = profiled(tmp_path, "fib(3)", prelude=FIB, options="record_open_frames=False")
    assert trace.named("main") == [] and trace.named("<module>") == []
    assert len(trace.named("fib")) == 5


def test_include_and_exclude_files(tmp_path):
    (tmp_path / "helper.py").write_text(textwrap.dedent("""
        def helped(callback):
            return callback()
    """))
    prelude = """
        import helper
        def mine():
            return 1
    """
    body = "helper.helped(mine); helper.helped(mine)"
    included = profiled(tmp_path, body, prelude=prelude, options="include_files=['helper.py']")
    assert len(included.named("helped")) == 2
    assert included.named("mine") == [] and included.named("main") == []
    excluded = profiled(tmp_path, body, prelude=prelude, options="exclude_files=['*/helper.py']")
    assert excluded.named("helped") == []
    mines = excluded.named("mine")  # callees of an excluded frame still are recorded
    assert len(mines) == 2 and all(m.parent.name == "main" for m in mines)
    directory = profiled(tmp_path, body, prelude=prelude, options=f"include_files=[{str(tmp_path)!r}]")
    assert len(directory.named("helped")) == 2 and len(directory.named("mine")) == 2


def test_min_duration_leaves_short_calls_out(tmp_path):
    trace = profiled(tmp_path, """
        for _ in range(3):
            quick()
        slow()
    """, options="min_duration_us=2000", prelude="""
        import time
        def quick():
            pass
        def slow():
            time.sleep(0.005)
    """)
    assert trace.named("quick") == []
    assert len(trace.named("slow")) == 1
    assert len(trace.named("main")) == 1  # open at stop: kept whatever its length


def test_max_events_caps_and_counts_the_drops(tmp_path):
    # fib(10) makes 177 calls; the first 100 are stored.
    trace = profiled(tmp_path, "fib(10)", prelude=FIB,
                     options="max_events=100, waits=False, counters=False")
    assert len(trace.named("fib")) == 100
    assert trace.dropped["python_calls_over_cap"] == 77
    assert trace.other["dropped_total"] == 77
    markers = [e for e in trace.events if e["ph"] == "i" and e.get("cat") == "probemon"]
    assert len(markers) == 1 and "77 events dropped" in markers[0]["name"]


@pytest.mark.parametrize("options, error, message", [
    ({"max_stack_depth": 0}, ValueError, "max_stack_depth must be at least 1"),
    ({"max_stack_depth": "3"}, TypeError, "max_stack_depth must be an int"),
    ({"include_files": 3}, TypeError, "include_files must be a glob or a list"),
    ({"exclude_files": [""]}, TypeError, "every glob must be a non-empty str"),
    ({"min_duration_us": -1}, ValueError, "min_duration_us must be >= 0"),
    ({"log_c_calls": 1}, TypeError, "log_c_calls must be True or False"),
    ({"max_events": 0}, ValueError, "max_events must be at least 1"),
    ({"record_open_frames": None}, TypeError, "record_open_frames must be True or False"),
    ({"max_depth": 3}, TypeError, "unknown option max_depth; the options are max_stack_depth"),
])
def test_bad_options_are_refused_before_anything_starts(options, error, message):
    with pytest.raises(error, match=message):
        probemon.Profiler(**options)
    with pytest.raises(error, match=message):
        probemon.profile("unused.json", **options)


def test_profiles_do_not_nest(tmp_path):
    with probemon.profile(tmp_path / "outer.json"):
        with pytest.raises(RuntimeError, match="a profile is already recording in this process"):
            with probemon.profile(tmp_path / "inner.json"):
                pass
    assert Trace(tmp_path / "outer.json").spans is not None
    assert not (tmp_path / "inner.json").exists()


def test_a_bad_path_names_it_and_keeps_the_recording(tmp_path):
    bad = tmp_path / "missing-dir" / "trace.json"
    with pytest.raises(FileNotFoundError) as raised:
        with probemon.profile(bad) as profiler:
            probemon.WaitCounter("test.kept").guard().__enter__()
    assert raised.value.filename == str(bad)
    assert str(bad) in str(raised.value)
    profiler.export_chrome_trace(tmp_path / "elsewhere.json")
    assert len(Trace(tmp_path / "elsewhere.json").named("test.kept")) == 1


def test_export_needs_a_stopped_recording():
    profiler = probemon.Profiler()
    with pytest.raises(RuntimeError, match="start\\(\\) and stop\\(\\) the profiler first"):
        profiler.export_chrome_trace("x.json")
    with profiler:
        with pytest.raises(RuntimeError, match="stop\\(\\) the profiler before exporting"):
            profiler.export_chrome_trace("x.json")
    assert not os.path.exists("x.json")


def test_another_profiler_is_not_replaced(tmp_path):
    result = run_script(tmp_path, """
        import cProfile, probemon
        with cProfile.Profile():
            try:
                probemon.Profiler().start()
            except RuntimeError as e:
                print(e)
        with probemon.profile("after.json"):  # nothing was left half started
            pass
    """)
    assert "another profiler (sys.setprofile(), cProfile, ...) is active" in result.stdout
    assert Trace(tmp_path / "after.json").spans is not None
