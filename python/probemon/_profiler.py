# SPDX-License-Identifier: BSD-3-Clause
"""probemon.Profiler and probemon.profile(): record a time window of this
process into a Chrome/Perfetto trace.

    with probemon.profile("trace.json", max_stack_depth=30):
        train()

    profiler = probemon.Profiler(log_c_calls=True)
    profiler.start()
    ...
    profiler.stop()
    profiler.export_chrome_trace("trace.json")

One recording holds every Python call of every thread (the C-level tracer
the module registers with the C++ core), wait counter spans from Python and
C++, DynamicCounter tracks and garbage-collector runs, on one timeline.

One profile records at a time per process. After fork() the child does not
record: the profile that was running in the parent is dropped in the child
(none of the parent's data is kept there, and leaving its `with` block
writes nothing); the child may start a profile of its own.
"""

import atexit
import os

from probemon import _options, _probemon, memory

_active = None  # the Profiler recording now


class Profiler:
    """A recording of this process, started and stopped by hand.

    Options: see docs/python.md (max_stack_depth, include_files,
    exclude_files, min_duration_us, log_c_calls, log_gc, max_events, waits,
    counters, counter_interval_ms, memory, process_name).
    """

    def __init__(self, **options):
        self.options = _options.make(**options)
        self._recording = None
        self._memory = False  # whether start() started the memory tracer
        self._forked_from = None  # the parent's pid, in a child of fork()

    def __repr__(self):
        state = ("recording" if self.running else
                 "stopped" if self._recording is not None else "not started")
        return f"<probemon.Profiler {state}>"

    @property
    def running(self):
        return self._recording is not None and self._recording.running

    def start(self):
        """Starts a new recording (the previous one, if any, is discarded)."""
        global _active
        if _active is not None:
            raise RuntimeError(
                f"probemon: a profile is already recording in this process ({_active!r}); "
                "profiles do not nest: stop it before starting another")
        recording = _probemon.Recording(**self.options.recording_arguments())
        if self.options.memory and not memory.running():
            memory.start()
            self._memory = True
        try:
            recording.start()
        except BaseException:
            self._stop_memory()
            raise
        self._recording = recording
        self._forked_from = None
        _active = self

    def stop(self):
        """Stops recording; the recording is kept for export. Idempotent."""
        global _active
        if _active is self:
            _active = None
        if self._recording is not None:
            self._recording.stop()
        self._stop_memory()

    def restart(self):
        """stop(), then start() a new recording: a fresh trace from now on."""
        self.stop()
        self.start()

    def export_chrome_trace(self, path):
        """Writes the trace (Chrome/Perfetto JSON) to `path` after stop().

        OSError naming the path if it cannot be written; the recording is
        kept, so it can be exported elsewhere."""
        if self._forked_from is not None:
            raise RuntimeError(
                f"probemon: this profile was recording in the parent process "
                f"(pid {self._forked_from}); a child of fork() has none of its data. "
                "Start a profile in the child to record it.")
        if self._recording is None:
            raise RuntimeError("probemon: nothing recorded: start() and stop() the profiler first")
        if self._recording.running:
            raise RuntimeError("probemon: stop() the profiler before exporting its trace")
        self._recording.export_chrome_trace(os.fspath(path))

    @property
    def dropped(self):
        """Events not stored (over max_events, or no memory), by cause."""
        if self._recording is None or self._recording.running:
            raise RuntimeError("probemon: stop() the profiler first")
        return self._recording.dropped

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def _stop_memory(self):
        if self._memory:
            self._memory = False
            memory.stop()

    def _drop_after_fork(self, parent):
        # The child's copy of the recording stops (its sampler thread was
        # the parent's) and is dropped unexported.
        self._recording.stop()
        self._recording = None
        self._memory = False
        self._forked_from = parent


class profile:
    """with probemon.profile(path, **options) as profiler: records the block
    and writes the trace to `path` when it ends (also if it raises).

    If `path` cannot be written the OSError names it, and `profiler` still
    holds the recording: profiler.export_chrome_trace(other_path)."""

    def __init__(self, path, **options):
        self.path = os.fspath(path)
        self.profiler = Profiler(**options)

    def __enter__(self):
        self.profiler.start()
        return self.profiler

    def __exit__(self, *exc_info):
        self.profiler.stop()
        if self.profiler._forked_from is None:  # a child of fork() writes nothing
            self.profiler.export_chrome_trace(self.path)


def _after_fork_in_child():
    global _active
    if _active is not None:
        _active._drop_after_fork(os.getppid())
        _active = None


@atexit.register
def _stop_at_exit():
    # A profile never stopped stops while the interpreter is whole (its
    # sampler may be running a DynamicCounter callback); it is not written.
    if _active is not None:
        _active.stop()
