#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Runs examples/record.cpp and checks the trace it writes: valid JSON, the
# example's waits nested per worker thread, its counter track and instant,
# thread names, nothing dropped; then that a tiny --max-events drops and
# says so.
#
#   tests/examples/record.sh PROBEMON_RECORD_BINARY
set -eu
binary=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$binary" "$dir/trace.json" --ms 50
/usr/bin/python3 - "$dir/trace.json" <<'PY'
import json, sys
trace = json.load(open(sys.argv[1]))
events = trace["traceEvents"]
spans = [e for e in events if e["ph"] == "X"]
names = {e["name"] for e in spans}
assert names == {"example.batch", "example.lock", "example.io"}, names
threads = {e["tid"]: e["args"]["name"] for e in events
           if e["ph"] == "M" and e["name"] == "thread_name"}
workers = {e["tid"] for e in spans}
assert all(threads[t].startswith("worker-") for t in workers), threads
assert len(workers) == 3, workers
for e in spans:  # lock and io waits inside a batch of the same thread
    if e["name"] == "example.batch":
        continue
    assert any(b["tid"] == e["tid"] and b["ts"] <= e["ts"] and
               e["ts"] + e["dur"] <= b["ts"] + b["dur"] + 1e-3
               for b in spans if b["name"] == "example.batch"), e
assert any(e["ph"] == "C" and e["name"] == "example.queue.depth" for e in events)
assert any(e["ph"] == "i" and e["name"] == "phase: workers started" for e in events)
assert trace["otherData"]["dropped_total"] == 0, trace["otherData"]
PY

out=$("$binary" "$dir/capped.json" --ms 50 --max-events 10)
echo "$out" | grep -q "dropped" || { echo "no drop reported: $out"; exit 1; }
/usr/bin/python3 -c '
import json, sys
other = json.load(open(sys.argv[1]))["otherData"]
assert other["dropped_total"] > 0 and other["events"] <= 10, other
' "$dir/capped.json"

if "$binary" /nonexistent-dir/trace.json --ms 1 2>"$dir/err"; then
  echo "writing to a missing directory succeeded"; exit 1
fi
grep -q "cannot write the trace to '/nonexistent-dir/trace.json'" "$dir/err"
echo ok
