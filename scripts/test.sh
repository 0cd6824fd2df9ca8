#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Builds probemon and runs every test, as CI does. Run as root: the tests that
# attach bpftrace, perf, gdb and BPF programs need it (without root they skip,
# and with CI=true a skip fails).
#
#   sudo scripts/test.sh
#
# Stages: the unit and stress tests under ASan+UBSan and under TSan; the same
# built without USDT (-DPROBEMON_WITH_USDT=OFF); the fuzz targets, each for a
# bounded time; then the full build, as Release (what users build), and the
# whole suite (ctest), tracer tests and the Python package's pytest suite (run
# by /usr/bin/python3, the interpreter the module is built for) included.
# Every build here has warnings as errors (PROBEMON_WERROR); a user's build
# does not.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
fuzz_seconds=${PROBEMON_FUZZ_SECONDS:-20}

"$root/scripts/setup.sh"

# build DIR [cmake options...] [-- targets...]
build() {
  local dir=$1
  shift
  local options=() targets=()
  while (($#)) && [[ $1 != -- ]]; do options+=("$1"); shift; done
  (($#)) && shift && targets=("$@")
  cmake -S "$root" -B "$root/$dir" -G Ninja -DPROBEMON_WERROR=ON "${options[@]}" >/dev/null
  cmake --build "$root/$dir" -j "$jobs" ${targets[@]+--target "${targets[@]}"}
}

unit_only=(-DCMAKE_BUILD_TYPE=Debug -DPROBEMON_BUILD_TOOL=OFF -DPROBEMON_BUILD_EXAMPLES=OFF
           -DPROBEMON_BUILD_BENCHMARKS=OFF -DPROBEMON_BUILD_PYTHON=OFF)
unit_targets=(probemon_unit_tests probemon_detached_cost_test probemon_no_membarrier_tests
              probemon_recording_tests probemon_wait_batch_tests)

echo "== unit and stress tests under ASan+UBSan"
build build-asan "${unit_only[@]}" -DPROBEMON_SANITIZE=address,undefined -- "${unit_targets[@]}"
ctest --test-dir "$root/build-asan" -L unit --output-on-failure -j "$jobs"

echo "== unit and stress tests under TSan"
build build-tsan "${unit_only[@]}" -DPROBEMON_SANITIZE=thread -- "${unit_targets[@]}"
ctest --test-dir "$root/build-tsan" -L unit --output-on-failure -j "$jobs"

echo "== unit and stress tests built without USDT"
build build-nousdt "${unit_only[@]}" -DPROBEMON_WITH_USDT=OFF -- "${unit_targets[@]}"
ctest --test-dir "$root/build-nousdt" -L unit --output-on-failure -j "$jobs"

echo "== fuzz targets, ${fuzz_seconds}s each"
build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DPROBEMON_BUILD_FUZZERS=ON -DPROBEMON_BUILD_TOOL=OFF \
  -DPROBEMON_BUILD_TESTS=OFF -DPROBEMON_BUILD_EXAMPLES=OFF -DPROBEMON_BUILD_BENCHMARKS=OFF \
  -DPROBEMON_BUILD_PYTHON=OFF -- probemon_fuzzers
for target in usdt_notes usdt_args escaping; do
  # New inputs go to the build tree; the seeds in the repo are only read. A
  # crash leaves its input in build-fuzz/: fix the bug, add the input to the
  # seeds.
  corpus="$root/build-fuzz/corpus/$target"
  log="$root/build-fuzz/fuzz_$target.log"
  mkdir -p "$corpus"
  if ! "$root/build-fuzz/tests/fuzz/fuzz_$target" -max_total_time="$fuzz_seconds" -timeout=10 \
    -artifact_prefix="$root/build-fuzz/" -print_final_stats=1 \
    "$corpus" "$root/tests/fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz_$target failed: its input is in $root/build-fuzz/" >&2
    exit 1
  fi
  echo "fuzz_$target: $(grep -E '^stat::number_of_executed_units' "$log"), no failure"
done

echo "== full build (Release) and the whole suite"
build build -DCMAKE_BUILD_TYPE=Release -DPROBEMON_BUILD_PYTHON=ON
ctest --test-dir "$root/build" --output-on-failure -j "$jobs"
