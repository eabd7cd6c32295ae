#!/bin/sh
# tests/host/trace_sgdisk.sh - a trace of the sgdisk sample (app, driver,
# SGD-1 model on the default machine) is a valid trace-event file and shows
# every DMA transfer of the run: one "dma" slice per scatter/gather list the
# run built, the count the run summary reports.
# usage: trace_sgdisk.sh <build dir> <source dir>
set -eu
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/wdmsim" run --machine "$src/machines/default.ini" --trace "$work/t.json" --summary \
    --app "$build/drivers/sgdisk_app.so" "$build/drivers/sgdisk.so" >"$work/out" 2>&1 || {
    echo "FAIL: the sgdisk run failed"; tail -20 "$work/out"; exit 1; }
lists=$(sed -n 's/^ *\([0-9][0-9]*\) scatter\/gather lists.*/\1/p' "$work/out")
[ -n "$lists" ] && [ "$lists" -gt 0 ] || { echo "FAIL: no S/G list count in the summary"; exit 1; }
echo "summary: $lists scatter/gather lists"
python3 "$src/tests/host/trace_check.py" "$work/t.json" "dma=$lists" counter:
