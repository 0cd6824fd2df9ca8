#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# perf-waits.sh - per-key summary of probemon waits, with perf only.
#
# Records the wait__done probe of a running process for SECONDS (or until
# Ctrl-C), or of a command for its whole run, and prints per key: count, mean
# and max latency, and a log2 histogram in microseconds.
#
# USAGE: perf-waits.sh -p PID [-d SECONDS]      (default 10 s)
#        perf-waits.sh -- CMD [ARGS...]
#
# Steps (docs/perf.md explains each): find the object holding the probemon
# notes (the executable or libprobemon.so), perf buildid-cache --add, perf
# probe sdt_probemon:wait__done, re-define the event in tracefs so the key is
# fetched as a string (perf 6.1 ignores argument specs on SDT events), perf
# record, perf script, and an awk summary. The events it added are removed on
# exit, Ctrl-C or error. Needs root.
set -euo pipefail

prog=${0##*/}
die() {
  echo "$prog: $*" >&2
  exit 1
}
usage() {
  echo "usage: $prog -p PID [-d SECONDS] | $prog -- CMD [ARGS...]" >&2
  exit 2
}

pid=""
seconds=10
while getopts ":p:d:h" opt; do
  case $opt in
    p) pid=$OPTARG ;;
    d) seconds=$OPTARG ;;
    h) usage ;;
    :) echo "$prog: -$OPTARG needs a value" >&2; usage ;;
    *) echo "$prog: unknown option -$OPTARG" >&2; usage ;;
  esac
done
shift $((OPTIND - 1))
if [[ -n $pid && $# -gt 0 ]] || [[ -z $pid && $# -eq 0 ]]; then usage; fi
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "-d wants a whole number of seconds, not '$seconds'"
[[ -z $pid || $pid =~ ^[1-9][0-9]*$ ]] || die "-p wants a process id, not '$pid'"
[[ $(id -u) -eq 0 ]] || die "must run as root (perf probe and uprobes need it)"
command -v perf >/dev/null || die "perf not found (apt-get install linux-perf)"
command -v readelf >/dev/null || die "readelf not found (apt-get install binutils)"

tracefs=/sys/kernel/tracing
if [[ ! -e $tracefs/uprobe_events ]]; then
  mount -t tracefs nodev "$tracefs" 2>/dev/null ||
    die "tracefs is not mounted and mounting it at $tracefs failed"
fi

has_probemon_notes() {
  readelf -n "$1" 2>/dev/null | grep -q 'Provider: probemon$'
}

# The executable or library that holds the probemon probes.
find_object() {
  local candidates=()
  if [[ -n $pid ]]; then
    [[ -d /proc/$pid ]] || die "no process with pid $pid"
    local root=/proc/$pid/root
    candidates+=("$root$(readlink "/proc/$pid/exe")")
    while read -r path; do candidates+=("$root$path"); done < <(
      awk '$6 ~ /^\// { print $6 }' "/proc/$pid/maps" | sort -u)
  else
    local exe
    exe=$(command -v -- "$1") || die "command not found: $1"
    candidates+=("$exe")
    while read -r path; do candidates+=("$path"); done < <(
      ldd "$exe" 2>/dev/null | awk '$3 ~ /^\// { print $3 }')
  fi
  for obj in "${candidates[@]}"; do
    if has_probemon_notes "$obj"; then
      echo "$obj"
      return
    fi
  done
  die "no probemon probes in $target (looked in the executable and its libraries)"
}

target=${pid:+process $pid}
target=${target:-$1}
obj=$(find_object "$@")
workdir=$(mktemp -d)
added=()
cleanup() {
  for event in "${added[@]}"; do
    echo "-:sdt_probemon/$event" >>"$tracefs/uprobe_events" 2>/dev/null || true
  done
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

grep -q '^p:sdt_probemon/wait__done' "$tracefs/uprobe_events" &&
  die "sdt_probemon:wait__done is already defined; remove it first: perf probe -d 'sdt_probemon:*'"

perf buildid-cache --add "$obj" 2>/dev/null || die "perf buildid-cache --add $obj failed"
perf probe -q -x "$obj" -a sdt_probemon:wait__done || die "perf probe could not add sdt_probemon:wait__done in $obj"

# perf defines arg1..arg5 as u64. Define the same uprobes again (same
# location, same semaphore) with named arguments and the key read as a
# string: arg1=LOC:u64 becomes key=+0(LOC):string.
definitions=$(grep '^p:sdt_probemon/wait__done' "$tracefs/uprobe_events")
perf probe -q -d 'sdt_probemon:wait__done*'
while read -r definition; do
  event=${definition%% *}
  event=${event#p:sdt_probemon/}
  named=$(sed -E -e 's/ arg1=([^ ]+):u64/ key=+0(\1):string/' -e 's/ arg2=/ key_id=/' \
    -e 's/ arg3=/ wait_id=/' -e 's/ arg4=/ start_ns=/' -e 's/ arg5=/ duration_ns=/' <<<"$definition")
  echo "$named" >>"$tracefs/uprobe_events" || die "tracefs refused: $named"
  added+=("$event")
done <<<"$definitions"

data=$workdir/perf.data
record=(perf record -q -e 'sdt_probemon:wait__done*' -o "$data")
if [[ -n $pid ]]; then
  # Start with the events disabled, enable them through perf's control fifo
  # and wait for its ack: only then is every wait recorded, so only then say
  # "Tracing". Ctrl-C ends perf record early; the summary still follows.
  mkfifo "$workdir/ctl" "$workdir/ack"
  "${record[@]}" -D -1 --control "fifo:$workdir/ctl,$workdir/ack" -p "$pid" -- sleep "$seconds" \
    2> >(grep -v '^Terminated$' >&2) &
  recorder=$!
  trap 'kill -INT "$recorder" 2>/dev/null || true' INT
  exec {ctl}>"$workdir/ctl" {ack}<"$workdir/ack"
  echo enable >&"$ctl"
  read -r -t 30 -u "$ack" reply || true
  [[ ${reply:-} == ack ]] || die "perf record did not start"
  echo "Tracing probemon waits in pid $pid for $seconds s ($obj)... Hit Ctrl-C to end."
  status=0
  wait "$recorder" || status=$?
  # A trapped Ctrl-C interrupts wait before perf record has written its data.
  while kill -0 "$recorder" 2>/dev/null; do wait "$recorder" || status=$?; done
  trap 'exit 130' INT
  [[ $status -eq 0 || -s $data ]] || die "perf record failed"
else
  # Ctrl-C reaches the command and perf record too; the summary still follows.
  trap ':' INT
  "${record[@]}" -- "$@" || [[ -s $data ]] || die "perf record failed"
  trap 'exit 130' INT
fi

perf script -i "$data" -F trace 2>/dev/null | awk '
  match($0, /key="[^"]*"/) {
    key = substr($0, RSTART + 5, RLENGTH - 6)
    if (!match($0, /duration_ns=[0-9]+/)) next
    us = substr($0, RSTART + 12, RLENGTH - 12) / 1000
    n[key]++; sum[key] += us
    if (us > max[key]) max[key] = us
    b = 0; for (v = 1; v <= us; v *= 2) b++
    hist[key, b]++
    if (b > top[key]) top[key] = b
    if (!(key in low) || b < low[key]) low[key] = b
    total++
  }
  END {
    if (total == 0) { print "no probemon waits recorded"; exit }
    printf "%-40s %8s %12s %12s\n", "KEY", "COUNT", "MEAN_US", "MAX_US"
    for (k in n) printf "%-40s %8d %12.1f %12.1f\n", k, n[k], sum[k] / n[k], max[k]
    for (k in n) {
      printf "\n%s (usecs)\n", k
      for (b = low[k]; b <= top[k]; b++) {
        lo = b == 0 ? 0 : 2 ^ (b - 1); hi = 2 ^ b - 1
        c = hist[k, b] + 0
        bar = ""; for (i = 0; i < int(c * 40 / n[k] + 0.5); i++) bar = bar "*"
        printf "  %10d -> %-10d : %-8d |%-40s|\n", lo, hi, c, bar
      }
    }
  }'
