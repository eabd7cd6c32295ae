#!/bin/sh
# tests/outoftree/build_and_run.sh - builds a driver out of tree exactly as
# docs/abi.md tells users to, against the build tree's uninstalled .pc file,
# checks that no CRT call escapes to glibc, then runs it under `wdmsim run`.
# usage: build_and_run.sh <wdmsim build dir> <this source dir> <scratch dir>
# A missing wdmsim binary is a failure, not a skip: the point of the test is
# that the driver runs.
set -eu
build=$1
src=$2
work=$3
export PKG_CONFIG_PATH="$build"
rm -rf "$work"
mkdir -p "$work"
cp "$src/mydrv.c" "$work/"
cd "$work"

echo "pkg-config --cflags wdmsim: $(pkg-config --cflags wdmsim)"
echo "pkg-config --libs wdmsim:   $(pkg-config --libs wdmsim)"
# The one documented command line, with -Werror so a header warning fails.
cc $(pkg-config --cflags wdmsim) -shared -fPIC mydrv.c -o mydrv.so $(pkg-config --libs wdmsim) \
    -Wall -Wextra -Werror

status=0
undefined=$(nm -D --undefined-only mydrv.so | awk '{ print $NF }')
for f in memcpy memset memmove strlen; do
    if printf '%s\n' "$undefined" | grep -qx "$f"; then
        echo "FAIL: mydrv.so imports $f: it would bind to glibc's sysv $f"
        status=1
    fi
done
for f in memcpy memset strlen; do
    nm mydrv.so | awk -v f="$f" '$3 == f && ($2 == "t" || $2 == "T") { ok = 1 } END { exit !ok }' ||
        { echo "FAIL: $f not bound inside mydrv.so"; status=1; }
done

# 8 KiB pages: the documented override compiles cleanly and is recorded.
cc $(pkg-config --cflags wdmsim) -UWDMSIM_PAGE_SHIFT -DWDMSIM_PAGE_SHIFT=13 -shared -fPIC \
    mydrv.c -o mydrv8k.so $(pkg-config --libs wdmsim) -Wall -Wextra -Werror

if [ ! -x "$build/wdmsim" ]; then
    echo "FAIL: $build/wdmsim does not exist; cannot run the driver"
    exit 1
fi
set +e
out=$("$build/wdmsim" run mydrv.so 2>&1)
rc=$?
set -e
printf '%s\n' "$out"
if [ $rc -ne 0 ]; then
    echo "FAIL: wdmsim run mydrv.so exited $rc"
    status=1
fi
if ! printf '%s\n' "$out" | grep -q 'mydrv: hello from an out-of-tree driver (count 7)'; then
    echo "FAIL: DriverEntry's DbgPrint output did not appear"
    status=1
fi
[ $status -eq 0 ] && echo "ok: out-of-tree driver built and ran"
exit $status
