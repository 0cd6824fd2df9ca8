#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# systemd-analyze verify on the shipped probemon-serve.service, with its
# ExecStart pointed at the probemon just built: any complaint fails.
#
#   check_unit.sh scripts/probemon-serve.service build/src/tool/probemon
set -euo pipefail
unit=$1 tool=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/local/bin/probemon|$tool|" "$unit" >"$dir/probemon-serve.service"
out=$(systemd-analyze verify "$dir/probemon-serve.service" 2>&1)
if [[ -n $out ]]; then
  echo "$out" >&2
  exit 1
fi
echo "systemd-analyze verify: no complaint"
