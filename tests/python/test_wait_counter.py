# SPDX-License-Identifier: BSD-3-Clause
"""probemon.WaitCounter: the guard, `with counter:`, the decorator, bad input.

That waits are timed and reach the probes and the recording is checked by
test_tool.py (the probemon tool attached) and test_profile.py (the trace).
"""

import asyncio
import threading

import pytest

import probemon


def test_key_and_repr():
    counter = probemon.WaitCounter("test.key")
    assert counter.key == "test.key"
    assert repr(counter) == "probemon.WaitCounter('test.key')"
    assert probemon.WaitCounter(key="ünïcode \"quoted\"\n").key == "ünïcode \"quoted\"\n"


@pytest.mark.parametrize("key, error", [
    ("a\0b", ValueError),
    ("\ud800", UnicodeEncodeError),
    (b"bytes", TypeError),
    (None, TypeError),
])
def test_bad_keys_are_refused(key, error):
    with pytest.raises(error):
        probemon.WaitCounter(key)


def test_guard_times_one_wait_and_may_be_reused():
    guard = probemon.WaitCounter("test.guard").guard()
    for _ in range(3):
        with guard as entered:
            assert entered is None
    with pytest.raises(RuntimeError, match="not entered"):
        guard.__exit__(None, None, None)
    guard.__enter__()
    with pytest.raises(RuntimeError, match="already entered"):
        guard.__enter__()
    guard.__exit__(None, None, None)


def test_guard_does_not_swallow_exceptions():
    with pytest.raises(KeyError):
        with probemon.WaitCounter("test.raise").guard():
            raise KeyError("x")
    with pytest.raises(KeyError):
        with probemon.WaitCounter("test.raise"):
            raise KeyError("x")


def test_with_counter_nests_and_exits_out_of_order():
    a = probemon.WaitCounter("test.a")
    b = probemon.WaitCounter("test.b")
    with a:
        with a:
            with b:
                pass
    # Two generators interleaving their `with` blocks exit out of order.
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)
    b.__exit__(None, None, None)
    with pytest.raises(RuntimeError, match="without a matching __enter__"):
        a.__exit__(None, None, None)


def test_with_counter_is_per_thread():
    counter = probemon.WaitCounter("test.threads")
    entered = threading.Barrier(4)
    errors = []

    def worker():
        try:
            for _ in range(200):
                with counter:
                    pass
            counter.__enter__()
            entered.wait()  # all four threads hold a wait of the same counter
            counter.__exit__(None, None, None)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # No wait of this thread is open.
    with pytest.raises(RuntimeError):
        counter.__exit__(None, None, None)


def test_decorator_keeps_the_function():
    counter = probemon.WaitCounter("test.decorated")

    @counter
    def add(a, b=2):
        """Adds."""
        return a + b

    assert add(1) == 3 and add(1, b=5) == 6
    assert add.__name__ == "add" and add.__doc__ == "Adds."

    @counter
    def fail():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fail()


def test_decorator_on_a_coroutine_function_times_the_coroutine():
    counter = probemon.WaitCounter("test.async")

    @counter
    async def work(x):
        await asyncio.sleep(0)
        return x * 2

    assert asyncio.iscoroutinefunction(work)
    assert asyncio.run(work(21)) == 42


def test_guard_type_is_not_instantiable():
    guard_type = type(probemon.WaitCounter("test.type").guard())
    with pytest.raises(TypeError):
        guard_type()
