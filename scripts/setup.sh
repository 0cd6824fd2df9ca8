#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs what probemon needs on Debian 12 (bookworm), if missing, and mounts
# tracefs for bpftrace and perf. Safe to run again. Installing needs root.
#
#   sudo scripts/setup.sh
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config binutils
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  systemtap-sdt-dev bpftrace linux-perf gdb
  libgtest-dev libbenchmark-dev libcli11-dev libfmt-dev nlohmann-json3-dev
  python3 python3-dev python3-pytest
  prometheus-cpp-dev libcivetweb-dev          # probemon serve: exposition, HTTP server
  prometheus python3-prometheus-client        # serve's tests: a real Prometheus, promtool, parsers
  systemd                                     # serve's tests: systemd-analyze verify of its unit
  libfuzzer-14-dev
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  if ((EUID != 0)); then
    echo "setup: missing packages: ${missing[*]}; run as root (sudo $0)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ((EUID == 0)) && [[ ! -e /sys/kernel/tracing/uprobe_events ]]; then
  mount -t tracefs nodev /sys/kernel/tracing ||
    echo "setup: could not mount tracefs at /sys/kernel/tracing; bpftrace and perf need it" >&2
fi
