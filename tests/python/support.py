# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the pytest suite of the probemon package.

`Process` runs a child with piped stdin/stdout/stderr and waits for its
output line by line with deadlines (nothing sleeps for a fixed time);
`require_tracing()` skips a test that needs root and tracefs, or fails it
under CI=true, like the C++ tests' PROBEMON_REQUIRE_TRACING.
"""

import os
import queue
import re
import subprocess
import sys
import textwrap
import threading

import pytest

import chrome_trace

# Set by tests/python/CMakeLists.txt.
TOOL = os.environ.get("PROBEMON_TOOL", "")


def in_ci():
    return os.environ.get("CI") == "true"


def tracing_unavailable():
    """Why tracer tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root to attach uprobes and BPF programs (run as root, or in CI)"
    if not os.path.exists("/sys/kernel/tracing/uprobe_events"):
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], check=False)
        if not os.path.exists("/sys/kernel/tracing/uprobe_events"):
            return "tracefs is not mounted at /sys/kernel/tracing and mounting it failed"
    if not TOOL or not os.access(TOOL, os.X_OK):
        return "the probemon tool was not built (PROBEMON_BUILD_TOOL=OFF)"
    return None


def require_tracing():
    reason = tracing_unavailable()
    if reason is not None:
        if in_ci():
            pytest.fail(f"CI=true, so this tracer test may not skip: {reason}")
        pytest.skip(reason)


class Process:
    """A child process whose stdout is read line by line, with deadlines."""

    def __init__(self, argv, env=None, merge_stderr=False):
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE, text=True, env=env)
        self.lines = []
        self._queue = queue.Queue()
        self._err = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self._queue.put),
                         daemon=True).start()
        if not merge_stderr:
            threading.Thread(target=self._pump, args=(self.proc.stderr, self._err.append),
                             daemon=True).start()

    @staticmethod
    def _pump(stream, put):
        for line in stream:
            put(line.rstrip("\n"))
        put(None)

    @property
    def pid(self):
        return self.proc.pid

    @property
    def err(self):
        return "\n".join(line for line in self._err if line is not None)

    def wait_for_line(self, pattern, timeout=20):
        """The next stdout line matching `pattern`; fails the test on timeout or EOF."""
        regex = re.compile(pattern)
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r} within {timeout}s; "
                            f"stdout so far: {self.lines}; stderr: {self.err}")
            if line is None:
                self._queue.put(None)
                pytest.fail(f"output ended without a line matching {pattern!r}; "
                            f"stdout: {self.lines}; stderr: {self.err}")
            self.lines.append(line)
            if regex.search(line):
                return line

    def send(self, text):
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def wait(self, timeout=30):
        """The exit status; the rest of stdout is in `lines` afterwards."""
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"{self.proc.args} did not exit within {timeout}s; "
                        f"stdout: {self.lines}; stderr: {self.err}")
        while (line := self._queue.get(timeout=timeout)) is not None:
            self.lines.append(line)
        self._queue.put(None)
        return status

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def python(args, env=None):
    """A Process running this interpreter (not the python3 on PATH)."""
    return Process([sys.executable, *args], env=env)


def tool(args):
    """The probemon tool, its stderr (where it says it is attached) merged into stdout."""
    return Process([TOOL, *args], merge_stderr=True)


def wait_attached(tool_process):
    tool_process.wait_for_line(r"^Tracing probemon ")


def run_script(directory, source, *args, expect_status=0, env=None):
    """Runs `source` (dedented) as directory/script.py with this interpreter, in
    `directory`; fails the test unless it exits with `expect_status`. Returns the
    CompletedProcess. A script starts with a known, short Python stack, which the
    tests of stack depth and start frames need (pytest's own frames are many)."""
    script = directory / "script.py"
    script.write_text(textwrap.dedent(source))
    result = subprocess.run([sys.executable, str(script), *args], cwd=directory,
                            capture_output=True, text=True, timeout=120,
                            env=env)
    assert result.returncode == expect_status, (
        f"exit status {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


FIB = textwrap.dedent("""
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)
""")


def profiled(tmp_path, body, *, options="", prelude=""):
    """Runs `body` inside `with probemon.profile(...)` in main() of a script
    whose module frame calls main(); returns the trace."""
    options = ", " + options if options else ""
    run_script(tmp_path, "\n".join([
        "import probemon",
        textwrap.dedent(prelude),
        "def main():",
        f"    with probemon.profile('trace.json'{options}):",
        textwrap.indent(textwrap.dedent(body).strip("\n"), " " * 8),
        "",
        "main()",
    ]))
    return chrome_trace.Trace(tmp_path / "trace.json")


def line_of(tmp_path, text):
    """The line number of the script line that starts with `text`."""
    lines = (tmp_path / "script.py").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.lstrip().startswith(text))
