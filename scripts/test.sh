#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Builds probemon and runs every test, as CI does. Run as root: the tests that
# attach bpftrace, perf, gdb and BPF programs need it (without root they skip,
# and with CI=true a skip fails).
#
#   sudo scripts/test.sh
#
# Stages: the unit and stress tests under ASan+UBSan and under TSan; the same
# built without USDT (-DPROBEMON_WITH_USDT=OFF); then the full build and the
# whole suite (ctest), tracer tests and the Python package's pytest suite
# (run by /usr/bin/python3, the interpreter the module is built for) included.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

"$root/scripts/setup.sh"

# build DIR [cmake options...] [-- targets...]
build() {
  local dir=$1
  shift
  local options=() targets=()
  while (($#)) && [[ $1 != -- ]]; do options+=("$1"); shift; done
  (($#)) && shift && targets=("$@")
  cmake -S "$root" -B "$root/$dir" -G Ninja "${options[@]}" >/dev/null
  cmake --build "$root/$dir" -j "$jobs" ${targets[@]+--target "${targets[@]}"}
}

unit_only=(-DCMAKE_BUILD_TYPE=Debug -DPROBEMON_BUILD_TOOL=OFF -DPROBEMON_BUILD_EXAMPLES=OFF
           -DPROBEMON_BUILD_BENCHMARKS=OFF -DPROBEMON_BUILD_PYTHON=OFF)
unit_targets=(probemon_unit_tests probemon_detached_cost_test probemon_no_membarrier_tests
              probemon_recording_tests)

echo "== unit and stress tests under ASan+UBSan"
build build-asan "${unit_only[@]}" -DPROBEMON_SANITIZE=address,undefined -- "${unit_targets[@]}"
ctest --test-dir "$root/build-asan" -L unit --output-on-failure -j "$jobs"

echo "== unit and stress tests under TSan"
build build-tsan "${unit_only[@]}" -DPROBEMON_SANITIZE=thread -- "${unit_targets[@]}"
ctest --test-dir "$root/build-tsan" -L unit --output-on-failure -j "$jobs"

echo "== unit and stress tests built without USDT"
build build-nousdt "${unit_only[@]}" -DPROBEMON_WITH_USDT=OFF -- "${unit_targets[@]}"
ctest --test-dir "$root/build-nousdt" -L unit --output-on-failure -j "$jobs"

echo "== full build and the whole suite"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROBEMON_BUILD_PYTHON=ON
ctest --test-dir "$root/build" --output-on-failure -j "$jobs"
