# SPDX-License-Identifier: BSD-3-Clause
"""python3 -m probemon run: runs a script or module as Python would, writes
its trace at the end (also when it raises or exits non-zero), and refuses
bad command lines with a usage message and status 2."""

import subprocess
import sys
import textwrap

import pytest

from chrome_trace import Trace

SCRIPT = textwrap.dedent("""
    import sys
    def work(n):
        return n * 2
    print(sys.argv, sys.path[0] == __import__("os").path.dirname(__file__))
    for i in range(3):
        work(i)
    if len(sys.argv) > 2:
        exit(int(sys.argv[2]))
    if len(sys.argv) > 1 and sys.argv[1] == "raise":
        raise ValueError("from the script")
""")


def probemon_run(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "probemon", "run", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_runs_a_script_with_its_argv_and_writes_the_trace(tmp_path):
    (tmp_path / "script.py").write_text(SCRIPT)
    result = probemon_run(tmp_path, "-o", "out.json", "script.py", "one")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['script.py', 'one'] True\n"
    assert "probemon: wrote out.json" in result.stderr
    trace = Trace(tmp_path / "out.json")
    works = trace.named("work")
    assert len(works) == 3 and all(w.parent.name == "<module>" for w in works)
    # The trace starts with the script: the runner's frames are not in it.
    assert [root.name for root in trace.roots] == ["<module>"]
    assert trace.roots[0].args["location"] == f"{tmp_path / 'script.py'}:1"


def test_exit_status_and_exceptions_pass_through_and_the_trace_is_written(tmp_path):
    (tmp_path / "script.py").write_text(SCRIPT)
    exited = probemon_run(tmp_path, "script.py", "exit", "7")
    assert exited.returncode == 7
    assert len(Trace(tmp_path / "probemon.json").named("work")) == 3
    raised = probemon_run(tmp_path, "-o", "raised.json", "script.py", "raise")
    assert raised.returncode == 1
    assert "ValueError: from the script" in raised.stderr
    assert len(Trace(tmp_path / "raised.json").named("work")) == 3


def test_runs_a_module_and_passes_options(tmp_path):
    (tmp_path / "mymodule.py").write_text(SCRIPT)
    result = probemon_run(tmp_path, "--log-c-calls", "--max-stack-depth", "2", "-o", "m.json",
                          "-m", "mymodule", "x")
    assert result.returncode == 0, result.stderr
    # As with python3 -m: argv[0] is the module's file.
    assert result.stdout == f"[{str(tmp_path / 'mymodule.py')!r}, 'x'] True\n"
    trace = Trace(tmp_path / "m.json")
    assert len(trace.named("work")) == 3  # the module's <module> is level 1, work() 2
    assert len(trace.named("builtins.print")) == 1


@pytest.mark.parametrize("args, message", [
    ([], "give a script"),
    (["missing.py"], "cannot open 'missing.py': no such file"),
    (["--max-events", "0", "x.py"], "max_events must be at least 1"),
    (["--memory-history", "m.json", "x.py"], "--memory-history needs --memory"),
])
def test_bad_command_lines_get_usage_and_status_2(tmp_path, args, message):
    (tmp_path / "x.py").write_text("pass\n")
    result = probemon_run(tmp_path, *args)
    assert result.returncode == 2
    assert message in result.stderr and "usage:" in result.stderr
