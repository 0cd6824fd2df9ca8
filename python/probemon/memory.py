# SPDX-License-Identifier: BSD-3-Clause
"""probemon.memory: the memory tracer.

    probemon.memory.start(frames=4)
    build_index()
    probemon.memory.stop()
    probemon.memory.export_memory_history("memory.json")

While started it records every allocation of the interpreter's object and
"mem" allocators, and every free of a block allocated meanwhile: when, the
address, the size and the allocation site (the innermost `frames` Python
frames). The JSON history is described in docs/python.md. While it runs, a
recording (probemon.profile) gets the bytes allocated and not yet freed as
the counter track python.memory.traced_bytes.

At most `max_entries` events are stored; the rest are counted in the
history's "dropped". start() after stop() begins a new history. After
fork() the child does not trace: the parent's tracer stops there and its
history is not kept.
"""

import os

from probemon import _probemon

__all__ = ["start", "stop", "running", "export_memory_history"]


def start(*, frames=1, max_entries=1_000_000):
    """Starts tracing allocations; RuntimeError if it already runs."""
    _probemon._memory_start(frames=frames, max_entries=max_entries)


def stop():
    """Stops tracing; the history is kept for export. Idempotent."""
    _probemon._memory_stop()


def running():
    return _probemon._memory_running()


def export_memory_history(path):
    """Writes the history (JSON) to `path`; OSError naming it if it cannot."""
    _probemon._memory_export(os.fspath(path))


os.register_at_fork(after_in_child=_probemon._memory_after_fork_in_child)
