# SPDX-License-Identifier: BSD-3-Clause
"""python3 -m probemon run [options] script.py [args...]
   python3 -m probemon run [options] -m module [args...]

Runs a Python program under probemon.profile(), the way `viztracer
script.py` does, and writes its trace (every Python call of every thread,
wait counter spans, DynamicCounter tracks, GC) when it ends, also when it
raises or calls sys.exit(). The program sees the argv and sys.path it would
see run directly. Open the trace in https://ui.perfetto.dev.
"""

import argparse
import builtins
import io
import os
import runpy
import sys
import traceback
import types

from probemon import memory, profile

DEFAULT_OUTPUT = "probemon.json"


def _parser():
    parser = argparse.ArgumentParser(
        prog="python3 -m probemon",
        description="probemon for Python: record a program into a Chrome/Perfetto trace.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="run")
    run = commands.add_parser(
        "run", help="run a script or module under the profiler",
        usage="python3 -m probemon run [options] (script.py | -m module) [args...]")
    run.add_argument("-o", "--output", default=DEFAULT_OUTPUT,
                     help=f"where to write the trace (default: {DEFAULT_OUTPUT})")
    run.add_argument("-m", dest="module", help="run a module, as python3 -m does")
    run.add_argument("--max-stack-depth", type=int, help="record frames only this deep")
    run.add_argument("--include-files", nargs="+", default=[], metavar="GLOB",
                     help="record only functions in matching files (a directory: all under it)")
    run.add_argument("--exclude-files", nargs="+", default=[], metavar="GLOB",
                     help="never record functions in matching files")
    run.add_argument("--min-duration-us", type=float, default=0.0,
                     help="leave out calls shorter than this")
    run.add_argument("--log-c-calls", action="store_true", help="record calls of C functions")
    run.add_argument("--no-gc", dest="log_gc", action="store_false",
                     help="do not record garbage-collector runs")
    run.add_argument("--max-events", type=int, default=1_000_000,
                     help="events stored at most; the rest are counted (default: 1000000)")
    run.add_argument("--counter-interval-ms", type=float, default=10.0,
                     help="how often DynamicCounters are read (default: 10)")
    run.add_argument("--memory", action="store_true",
                     help="trace allocations: a memory counter track in the trace")
    run.add_argument("--memory-history", metavar="PATH",
                     help="with --memory, also write the memory history JSON to PATH")
    run.add_argument("program", nargs="?", help="the script to run")
    run.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    return parser


def _options_of(args):
    options = {
        "include_files": args.include_files,
        "exclude_files": args.exclude_files,
        "min_duration_us": args.min_duration_us,
        "log_c_calls": args.log_c_calls,
        "log_gc": args.log_gc,
        "max_events": args.max_events,
        "counter_interval_ms": args.counter_interval_ms,
        "memory": args.memory,
        "record_open_frames": False,  # the runner's frames: the trace starts with the program
    }
    if args.max_stack_depth is not None:
        options["max_stack_depth"] = args.max_stack_depth
    return options


def _load(args):
    """The program's code and its __main__ module, made before the profile
    starts (so the trace starts with the program): as `python3 script.py`
    would (an absolute __file__, which the file filters match; argv[0] as
    typed) or `python3 -m module` would (argv[0] the module's file)."""
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    if args.module is None:
        path = os.path.abspath(args.program)
        with io.open_code(path) as f:
            code = compile(f.read(), path, "exec")
        main.__file__ = path
        argv0, path0 = args.program, os.path.dirname(path)
    else:
        # What runpy.run_module() finds, without its frames in the trace
        # (pdb does the same).
        _, spec, code = runpy._get_module_details(args.module)
        main.__file__ = spec.origin
        main.__spec__ = spec
        main.__package__ = spec.parent
        main.__loader__ = spec.loader
        argv0, path0 = spec.origin, os.getcwd()
    return code, main, [argv0, *args.args], path0


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.module is not None:
        if args.program is not None:
            args.args.insert(0, args.program)
    elif args.program is None:
        parser.error("run: give a script (script.py) or a module (-m module)")
    elif not os.path.isfile(args.program):
        parser.error(f"run: cannot open {args.program!r}: no such file")
    if args.memory_history and not args.memory:
        parser.error("run: --memory-history needs --memory")
    try:
        profiling = profile(args.output, **_options_of(args))
    except (TypeError, ValueError) as error:
        parser.error(f"run: {error}")

    try:
        code, main_module, sys.argv, sys.path[0] = _load(args)
    except (ImportError, SyntaxError, OSError) as error:
        parser.error(f"run: {error}")
    sys.modules["__main__"] = main_module

    status = 0
    with profiling as profiler:
        try:
            exec(code, main_module.__dict__)
        except SystemExit as exit:
            status = exit.code
        except BaseException:  # noqa: BLE001 - reported like Python would, after the trace
            traceback.print_exc()
            status = 1
        finally:
            if args.memory_history:
                memory.export_memory_history(args.memory_history)
    if profiler._forked_from is not None:  # a child of fork() returning here wrote nothing
        return status
    dropped = sum(profiler.dropped.values())
    print(f"probemon: wrote {args.output}" +
          (f" ({dropped} events dropped: see otherData.dropped)" if dropped else "") +
          "; open it in https://ui.perfetto.dev", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
