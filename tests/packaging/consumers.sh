#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs a build of probemon into a temporary prefix and builds a consumer
# against it three ways: find_package(probemon), pkg-config, and
# add_subdirectory of the source tree; each consumer, shared and static, must
# run and see its waits. Also checks the installed files and that the
# installed library carries the probemon notes, and, when the Python module
# is built, that the installed package imports from the prefix with the
# interpreter it was built for, using the prefix's libprobemon.so.
#
#   consumers.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
expect="consumer: 3 waits, counter 42"

check_run() {  # check_run PROGRAM
  local out
  out=$("$1")
  grep -qx "$expect" <<<"$out" || { echo "FAIL: $1 printed: $out" >&2; exit 1; }
  echo "ok: $1"
}

cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(dirname "$(find "$work/prefix" -name libprobemon.so -print -quit)")
for f in "$libdir/libprobemon.so" "$libdir/libprobemon.a" "$libdir/cmake/probemon/probemonConfig.cmake" \
  "$libdir/pkgconfig/probemon.pc" "$work/prefix/include/probemon/WaitCounter.h" \
  "$work/prefix/include/probemon/DynamicCounter.h" "$work/prefix/include/probemon/detail/Export.h"; do
  [[ -e $f ]] || { echo "FAIL: not installed: $f" >&2; exit 1; }
done
if grep -q "^PROBEMON_BUILD_TOOL:BOOL=ON" "$build/CMakeCache.txt"; then
  [[ -x $work/prefix/bin/probemon ]] || { echo "FAIL: bin/probemon not installed" >&2; exit 1; }
fi
if grep -q "^PROBEMON_WITH_USDT:BOOL=ON" "$build/CMakeCache.txt"; then
  readelf --notes "$libdir/libprobemon.so" | grep -q "Name: wait__done" ||
    { echo "FAIL: installed libprobemon.so has no probemon notes" >&2; exit 1; }
fi
echo "ok: installed files"

if grep -q "^PROBEMON_BUILD_PYTHON:BOOL=ON" "$build/CMakeCache.txt"; then
  python=$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' "$build/CMakeCache.txt")
  pydir=$work/prefix/$(sed -n 's/^PROBEMON_PYTHON_INSTALL_DIR:[A-Z]*=//p' "$build/CMakeCache.txt")
  [[ -f $pydir/probemon/__init__.py ]] || { echo "FAIL: no probemon package in $pydir" >&2; exit 1; }
  (cd "$work" && PYTHONPATH=$pydir "$python" - "$work/prefix" <<'PY') || { echo "FAIL: the installed Python package" >&2; exit 1; }
import json, os, sys
import probemon
prefix = os.path.realpath(sys.argv[1])
assert os.path.realpath(probemon.__file__).startswith(prefix), probemon.__file__
with open("/proc/self/maps") as maps:
    libraries = {line.split()[-1] for line in maps if "libprobemon.so" in line}
assert libraries and all(os.path.realpath(l).startswith(prefix) for l in libraries), libraries
def work():
    with probemon.WaitCounter("consumer.wait").guard():
        pass
with probemon.profile("consumer.json"):
    work()
names = [e["name"] for e in json.load(open("consumer.json"))["traceEvents"]]
assert names.count("work") == 1 and names.count("consumer.wait") == 1, names
PY
  echo "ok: the installed Python package"
fi

cmake -S "$source/tests/consumer" -B "$work/find_package" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/find_package" >/dev/null
check_run "$work/find_package/consumer"
check_run "$work/find_package/consumer_static"

PKG_CONFIG_PATH="$libdir/pkgconfig" g++ -o "$work/pkg_config_consumer" \
  "$source/tests/consumer/main.cpp" $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs probemon) \
  -Wl,-rpath,"$libdir"
check_run "$work/pkg_config_consumer"

cmake -S "$source/tests/consumer" -B "$work/subdirectory" -DPROBEMON_SOURCE_DIR="$source" >/dev/null
cmake --build "$work/subdirectory" >/dev/null
check_run "$work/subdirectory/consumer"
check_run "$work/subdirectory/consumer_static"
