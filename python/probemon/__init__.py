# SPDX-License-Identifier: BSD-3-Clause
"""probemon for Python: wait counters, dynamic counters and an in-process profiler.

    import probemon

    flush_wait = probemon.WaitCounter("myapp.wait.flush")

    with flush_wait.guard():          # one wait, as torch.monitor._WaitCounter
        flush()

    @flush_wait                       # every call of the function is a wait
    def flush(): ...

    depth = probemon.DynamicCounter("myapp.queue.depth", lambda: len(queue))

    with probemon.profile("trace.json"):   # every Python call of every thread,
        main()                            # waits, counters and GC: open in ui.perfetto.dev

Wait counters fire the same USDT probes as the C++ library, so
`sudo probemon hist -p <pid>` shows Python waits beside C++ ones. See
docs/python.md.
"""

import functools as _functools
import inspect as _inspect
import os as _os

from probemon import _probemon, _profiler, memory
from probemon._probemon import DynamicCounter
from probemon._profiler import Profiler, profile

# The profiler never records its own frames.
_probemon._set_package_dir(_os.path.dirname(__file__) + _os.sep)
_os.register_at_fork(after_in_child=_profiler._after_fork_in_child)

__all__ = ["WaitCounter", "DynamicCounter", "Profiler", "profile", "memory"]


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
