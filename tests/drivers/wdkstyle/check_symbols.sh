#!/bin/sh
# tests/drivers/wdkstyle/check_symbols.sh - the calls the compiler emitted in
# a driver (memset for a loop, memcpy for a struct copy) and the CRT calls it
# makes (strlen, wcslen) must bind inside the module to the archive's hidden
# ms_abi copies, never to the process's glibc.
# usage: check_symbols.sh <driver.so>
set -eu
so=$1
status=0
undefined=$(nm -D --undefined-only "$so" | awk '{ print $NF }')
for f in memcpy memset memmove memcmp strlen wcslen; do
    if printf '%s\n' "$undefined" | grep -qx "$f"; then
        echo "FAIL: $so imports $f (would bind to glibc's sysv $f)"
        status=1
    fi
done
# The loop really became a memset call, and it and memcpy are local symbols.
for f in memset memcpy strlen wcslen; do
    nm "$so" | awk -v f="$f" '($2 == "t" || $2 == "T") && $3 == f { found = 1 } END { exit !found }' ||
        { echo "FAIL: $f is not defined inside $so"; status=1; }
done
objdump -d --no-show-raw-insn "$so" |
    awk '/<WdkStyleFill>:$/ { in_fn = 1; next } /^[0-9a-f]+ </ { in_fn = 0 }
         in_fn && /(call|jmp).*<memset>/ { found = 1 } END { exit !found }' ||
    { echo "FAIL: WdkStyleFill's loop did not become a memset call (build without -O2?)"; status=1; }
objdump -d --no-show-raw-insn "$so" |
    awk '/<WdkStyleCopyRecord>:$/ { in_fn = 1; next } /^[0-9a-f]+ </ { in_fn = 0 }
         in_fn && /(call|jmp).*<memcpy>/ { found = 1 } END { exit !found }' ||
    { echo "FAIL: the large struct copy did not become a memcpy call"; status=1; }
# Nothing but kernel exports stays undefined: DbgPrint, and the kernel's
# rtl_crt_* bridge the CRT archive calls (overlap check, bulk copies).
others=$(printf '%s\n' "$undefined" | grep -vx 'DbgPrint' | grep -v '^rtl_crt_' | grep -v '^$' || true)
if [ -n "$others" ]; then
    echo "FAIL: unexpected imports: $others"
    status=1
fi
[ $status -eq 0 ] && echo "ok: compiler-emitted calls bind inside $so"
exit $status
