/*
 * src/crt/mem.c - memcpy, memmove, memset, memcmp, memchr, _memicmp.
 *
 * Models: the kernel CRT's memory functions with the Windows x64 calling
 * convention; these are also what the compiler calls by itself for struct
 * copies and loops it recognises, inside every driver.
 * Spec: ARCHITECTURE.md 10; spec/ke_rtl_registry.md 6.
 * Invariants: the archive is built with -fno-tree-loop-distribute-patterns,
 * so none of these loops is turned back into a call to itself.
 * Overlap: memcpy calls the kernel's rtl.overlap check only when the two
 * ranges do overlap (dst == src, which the compiler emits for a struct
 * assigned to itself, is allowed), so the common path makes no call.
 * Blocks of RTL_CRT_BULK bytes or more go to the kernel's bridge, which
 * copies with the host's vectorised routines.
 */
#include <string.h>
#include <stdint.h>

#include "rtl/crt_bridge.h"

/* Word access to byte buffers; may_alias keeps it defined for any type. */
typedef uint64_t __attribute__((may_alias)) crt_word;

static int crt_aligned(const void *a, const void *b)
{
    return (((uintptr_t)a | (uintptr_t)b) & (sizeof(crt_word) - 1)) == 0;
}

/* A forward copy with no checks: memcpy's body, and memmove's when the
 * destination starts below the source. */
static void *copy_forward(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (crt_aligned(d, s)) {
        for (; n >= sizeof(crt_word); n -= sizeof(crt_word)) {
            *(crt_word *)d = *(const crt_word *)s;
            d += sizeof(crt_word);
            s += sizeof(crt_word);
        }
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;

    if (n >= RTL_CRT_BULK)
        return rtl_crt_memcpy(dst, src, n);
    if (d != s && d < s + n && s < d + n)
        rtl_crt_check_copy(dst, src, n);
    return copy_forward(dst, src, n);
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d == s || n == 0)
        return dst;
    if (n >= RTL_CRT_BULK)
        return rtl_crt_memmove(dst, src, n);
    if ((uintptr_t)d < (uintptr_t)s || (uintptr_t)d >= (uintptr_t)s + n)
        return copy_forward(dst, src, n);
    /* Destination overlaps the source's tail: copy backwards. */
    d += n;
    s += n;
    while (n--)
        *--d = *--s;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    crt_word pattern = (unsigned char)c * 0x0101010101010101ULL;

    if (n >= RTL_CRT_BULK)
        return rtl_crt_memset(dst, c, n);

    while (n && ((uintptr_t)d & (sizeof(crt_word) - 1))) {
        *d++ = (unsigned char)c;
        n--;
    }
    for (; n >= sizeof(crt_word); n -= sizeof(crt_word)) {
        *(crt_word *)d = pattern;
        d += sizeof(crt_word);
    }
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (; n; n--, x++, y++) {
        if (*x != *y)
            return *x < *y ? -1 : 1;
    }
    return 0;
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;

    for (; n; n--, p++) {
        if (*p == (unsigned char)c)
            return (void *)p;
    }
    return NULL;
}

static unsigned char crt_fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

int _memicmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (; n; n--, x++, y++) {
        unsigned char cx = crt_fold(*x), cy = crt_fold(*y);
        if (cx != cy)
            return cx < cy ? -1 : 1;
    }
    return 0;
}
