/*
 * src/rtl/memory.c - RtlCompareMemory and the overlap check behind
 * RtlCopyMemory and memcpy.
 *
 * Models: RtlCompareMemory's count of equal leading bytes; Driver
 * Verifier's 0xC4/0xF0 for a copy whose source and destination overlap
 * (memcpy's result is undefined then; RtlMoveMemory is the routine for it).
 * Spec: spec/ke_rtl_registry.md 6; spec/verifier.md rtl.overlap.
 * Invariants: the check reads no memory, only compares addresses.
 * Not modelled: copies the compiler inlines (small constant sizes) never
 * reach the check.
 */
#include <string.h>

#include <wdm.h>

#include "rtl/crt_bridge.h"
#include "rtl/rtl.h"
#include "sys.h"

NTSYSAPI SIZE_T NTAPI RtlCompareMemory(const VOID *Source1, const VOID *Source2, SIZE_T Length)
{
    const unsigned char *a = Source1, *b = Source2;
    SIZE_T n = 0;
    /* Word steps while equal, then the bytes of the first differing word. */
    while (n + sizeof(uint64_t) <= Length) {
        uint64_t x, y;
        __builtin_memcpy(&x, a + n, sizeof x);
        __builtin_memcpy(&y, b + n, sizeof y);
        if (x != y)
            break;
        n += sizeof x;
    }
    while (n < Length && a[n] == b[n])
        n++;
    return n;
}

const struct vf_rule rtl_rule_overlap = {
    .id = "rtl.overlap",
    .code = 0xC4,
    .p1 = 0xF0,
    .params = {"destination", "source", "bytes"},
    .text = "memcpy / RtlCopyMemory with overlapping source and destination (use RtlMoveMemory)",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/rtl_overlap",
};

/* dst == src exactly is let through: the compiler itself emits memcpy for a
 * struct assigned to itself, and the result is well defined in practice. */
RTL_CRT_BRIDGE_API void rtl_crt_check_copy(void *dst, const void *src, size_t n)
{
    struct sys *sys = sys_get();
    uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;
    if (!sys || n == 0 || d == s)
        return;
    if (d < s + n && s < d + n)
        vf_fire(&rtl_rule_overlap, d, s, n,
                "copy of %zu bytes from %p to %p: the ranges overlap by %zu bytes", n, src, dst,
                (size_t)(d < s ? d + n - s : s + n - d));
}

RTL_CRT_BRIDGE_API void *rtl_crt_memcpy(void *dst, const void *src, size_t n)
{
    rtl_crt_check_copy(dst, src, n);
    return memcpy(dst, src, n);
}

RTL_CRT_BRIDGE_API void *rtl_crt_memmove(void *dst, const void *src, size_t n)
{
    return memmove(dst, src, n);
}

RTL_CRT_BRIDGE_API void *rtl_crt_memset(void *dst, int c, size_t n)
{
    return memset(dst, c, n);
}
