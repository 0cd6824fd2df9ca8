# SPDX-License-Identifier: BSD-3-Clause
"""The options of probemon.profile() and probemon.Profiler, checked once.

Shared by the API and `python3 -m probemon run`, so both accept and refuse
exactly the same things. A bad option is a TypeError or ValueError naming
it, raised before anything starts.
"""

import dataclasses
import glob
import os


@dataclasses.dataclass(frozen=True)
class Options:
    # Calls more than this many levels below where the profile started are
    # not recorded (on each thread: below the frame that makes its first
    # call once recording runs; for `with probemon.profile()`, the frame of
    # the `with` block). None: no limit.
    max_stack_depth: "int | None" = None
    # Record the frames open when the profile starts (on every thread) as
    # calls starting then. `python3 -m probemon run` turns it off, so its
    # trace starts with the script.
    record_open_frames: bool = True
    # Globs on a function's file (fnmatch: `*` also matches `/`). Relative
    # ones are taken from the current directory; a directory stands for
    # every file under it. With include_files, only matching files are
    # recorded; exclude_files are never recorded.
    include_files: "tuple[str, ...]" = ()
    exclude_files: "tuple[str, ...]" = ()
    # Calls shorter than this are left out of the trace.
    min_duration_us: float = 0.0
    # Record calls of C functions (builtins, extensions) from recorded code.
    log_c_calls: bool = False
    # Record garbage-collector runs.
    log_gc: bool = True
    # Events stored at most, over all threads and kinds; the rest are dropped
    # and counted in the trace (otherData.dropped).
    max_events: int = 1_000_000
    # Wait counter spans and DynamicCounter tracks.
    waits: bool = True
    counters: bool = True
    # How often DynamicCounters are read; 0: only at start and stop.
    counter_interval_ms: float = 10.0
    # Run the memory tracer (probemon.memory) while profiling: a memory
    # counter track in the trace.
    memory: bool = False
    # The process's name in the trace; the program's name if empty.
    process_name: str = ""

    def recording_arguments(self):
        """Keyword arguments of probemon._probemon.Recording."""
        return {
            "max_events": self.max_events,
            "counter_interval_ns": round(self.counter_interval_ms * 1e6),
            "record_waits": self.waits,
            "record_counters": self.counters,
            "record_python": True,
            "record_gc": self.log_gc,
            "process_name": self.process_name,
            "max_stack_depth": self.max_stack_depth or 0,
            "include_files": self.include_files,
            "exclude_files": self.exclude_files,
            "min_duration_ns": round(self.min_duration_us * 1e3),
            "log_c_calls": self.log_c_calls,
            "record_open_frames": self.record_open_frames,
        }


def _globs(name, value):
    if isinstance(value, (str, os.PathLike)):
        value = [value]
    try:
        items = [os.fspath(item) for item in value]
    except TypeError:
        raise TypeError(f"{name} must be a glob or a list of globs (str), not "
                        f"{type(value).__name__}") from None
    globs = []
    for item in items:
        if not isinstance(item, str) or not item:
            raise TypeError(f"{name}: every glob must be a non-empty str, not {item!r}")
        if not item.startswith(("*", "?", "[")):
            item = os.path.abspath(item)
            if not glob.has_magic(item) and os.path.isdir(item):
                item = os.path.join(item, "*")
        globs.append(item)
    return tuple(globs)


def _int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, not {value}")
    return float(value)


def _str(name, value):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return value


def _bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {value!r}")
    return value


_CHECKS = {
    "max_stack_depth": lambda n, v: None if v is None else _int(n, v, 1),
    "record_open_frames": _bool,
    "include_files": _globs,
    "exclude_files": _globs,
    "min_duration_us": _number,
    "log_c_calls": _bool,
    "log_gc": _bool,
    "max_events": lambda n, v: _int(n, v, 1),
    "waits": _bool,
    "counters": _bool,
    "counter_interval_ms": _number,
    "memory": _bool,
    "process_name": _str,
}


def make(**options):
    """Options from keyword arguments; TypeError or ValueError naming a bad one."""
    unknown = sorted(set(options) - set(_CHECKS))
    if unknown:
        raise TypeError(f"unknown option{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(unknown)}; the options are {', '.join(_CHECKS)}")
    return Options(**{name: _CHECKS[name](name, value) for name, value in options.items()})
