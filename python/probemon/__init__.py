"""probemon for Python: wait counters, dynamic counters and an in-process profiler.

    import probemon

    flush_wait = probemon.WaitCounter("myapp.wait.flush")

    with flush_wait.guard():          # one wait, as torch.monitor._WaitCounter
        flush()

    @flush_wait                       # every call of the function is a wait
    def flush(): ...

    depth = probemon.DynamicCounter("myapp.queue.depth", lambda: len(queue))

Wait counters fire the same USDT probes as the C++ library, so
`sudo probemon hist -p <pid>` shows Python waits beside C++ ones. See
docs/python.md.
"""

import functools as _functools
import inspect as _inspect

from probemon import _probemon
from probemon._probemon import DynamicCounter

__all__ = ["WaitCounter", "DynamicCounter"]


class WaitCounter(_probemon.WaitCounter):
    """WaitCounter(key): times waits under `key`.

    `with counter.guard():` times one wait; `with counter:` does the same
    (thread-safe: each thread keeps its own stack of open waits); used as a
    decorator, every call of the function (or every run of the coroutine) is a
    wait.
    """

    __slots__ = ()

    def __call__(self, function):
        if _inspect.iscoroutinefunction(function):

            async def timed(*args, **kwargs):
                with self.guard():
                    return await function(*args, **kwargs)

        else:

            def timed(*args, **kwargs):
                with self.guard():
                    return function(*args, **kwargs)

        return _functools.wraps(function)(timed)

    def __repr__(self):
        return f"probemon.WaitCounter({self.key!r})"
