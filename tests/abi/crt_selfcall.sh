#!/bin/sh
# tests/abi/crt_selfcall.sh - the CRT archive's memory functions and string
# length functions must not call one another or themselves (gcc turns a memset
# loop into a call to memset, and inside memset that is infinite recursion);
# the only calls allowed are to the kernel's rtl_crt_* bridge (bulk copies,
# the overlap check). Every symbol must be hidden so it binds inside each
# driver.
# usage: crt_selfcall.sh <path to libwdmsim_crt.a>
set -eu
archive=$1
status=0
calls=$(objdump -dr --no-show-raw-insn "$archive" |
    awk '/^[0-9a-f]+ <(memcpy|memmove|memset|memcmp|memchr|strlen|strnlen|wcslen|wcsnlen)>:$/ { fn = $2; next }
         /^[0-9a-f]+ </ { fn = "" }
         fn != "" && /R_X86_64_(PLT32|PC32)/ && $NF !~ /^rtl_crt_/ && $NF !~ /^\.(text|rodata)/ { print fn, $0 }')
if [ -n "$calls" ]; then
    echo "FAIL: CRT memory/string functions make calls:"
    echo "$calls"
    status=1
fi
# Every defined global symbol must be STV_HIDDEN.
visible=$(readelf -sW "$archive" | awk '$5 == "GLOBAL" && $7 != "UND" && $6 != "HIDDEN" { print $8 }')
if [ -n "$visible" ]; then
    echo "FAIL: CRT symbols not hidden: $visible"
    status=1
fi
for f in memcpy memmove memset memcmp strlen wcslen qsort atoi; do
    readelf -sW "$archive" | awk -v f="$f" '$8 == f && $7 != "UND" { found = 1 } END { exit !found }' ||
        { echo "FAIL: $f not defined in the archive"; status=1; }
done
[ $status -eq 0 ] && echo "ok: CRT archive is call-free and hidden"
exit $status
