#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs the probemon of BUILD_DIR into a temporary prefix, builds
# probemon_bench against it as a separate project (CMakeLists.txt here) and
# runs it with the remaining arguments, e.g. the detached cost against the
# reference replica side by side:
#
#   bench/installed/run.sh build --benchmark_filter='Detached|Replica_StartStop_NoBackend'
#       --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
set -euo pipefail
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$here" -B "$work/bench" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/bench" >/dev/null
taskset -c 1 "$work/bench/probemon_installed_bench" "$@"
