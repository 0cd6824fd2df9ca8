#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The main job: builds probemon, runs the demo workload and traces it with
# `probemon hist`, which prints per-key latency histograms aggregated in the
# kernel. Run as root (attaching BPF programs needs it).
#
#   sudo scripts/demo.sh [SECONDS]    # default 10
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}

"$root/scripts/setup.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j "$(nproc)" --target probemon-demo probemon-tool

"$root/build/examples/probemon-demo" --seconds $((seconds + 5)) &
demo=$!
trap 'kill "$demo" 2>/dev/null || true' EXIT
"$root/build/src/tool/probemon" hist -p "$demo" --duration "$seconds"
