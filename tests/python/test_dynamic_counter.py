# SPDX-License-Identifier: BSD-3-Clause
"""probemon.DynamicCounter: registration, close, bad input, shutdown.

Values and callback errors as a sampler sees them are checked by
test_tool.py (probemon counters) and test_profile.py (counter tracks).
"""

import gc
import textwrap

import pytest

import probemon
from support import python


def test_close_and_with():
    counter = probemon.DynamicCounter("test.dyn", lambda: 1)
    assert counter.key == "test.dyn" and not counter.closed and counter.errors == 0
    assert repr(counter) == "probemon.DynamicCounter('test.dyn')"
    counter.close()
    counter.close()  # idempotent
    assert counter.closed
    assert repr(counter) == "probemon.DynamicCounter('test.dyn', closed)"
    with probemon.DynamicCounter("test.dyn", lambda: 2) as again:  # the key is free again
        assert not again.closed
    assert again.closed


def test_a_live_key_cannot_be_taken_twice():
    with probemon.DynamicCounter("test.twice", lambda: 1):
        with pytest.raises(ValueError, match="'test.twice' is already registered"):
            probemon.DynamicCounter("test.twice", lambda: 2)


def test_a_collected_counter_frees_its_key():
    def make():
        counter = probemon.DynamicCounter("test.collected", lambda: counter.errors)
        return counter  # the lambda refers to the counter: a cycle

    make()
    gc.collect()
    probemon.DynamicCounter("test.collected", lambda: 0).close()


@pytest.mark.parametrize("args, error", [
    (("test.bad", 3), TypeError),
    (("a\0b", lambda: 1), ValueError),
    ((b"key", lambda: 1), TypeError),
])
def test_bad_arguments_are_refused(args, error):
    with pytest.raises(error):
        probemon.DynamicCounter(*args)


def test_counters_left_open_at_exit_are_closed_cleanly():
    script = textwrap.dedent("""
        import atexit

        def late():  # registered before probemon's exit handler, so it runs after it
            try:
                probemon.DynamicCounter("test.exit.late", lambda: 0)
            except RuntimeError as e:
                print("refused:", e)

        atexit.register(late)
        import probemon
        kept = [probemon.DynamicCounter(f"test.exit.{i}", lambda: i) for i in range(3)]
        print("done")
    """)
    child = python(["-c", script])
    assert child.wait() == 0, child.err
    assert child.lines == ["done", "refused: DynamicCounter: the interpreter is shutting down"]
