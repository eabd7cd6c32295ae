/*
 * src/rtl/alloc.c - buffers the Rtl string routines allocate for a caller.
 *
 * Models: the pool buffer behind RtlAnsiStringToUnicodeString(..., TRUE)
 * and friends, which only RtlFree*String may release: paged pool with the
 * tag 'RtlS', as on Windows. The pool itself checks the free: a buffer the
 * pool never handed out, or one with another tag (the driver's own), stops
 * the machine with the pool's bug check.
 * With no machine running (host unit tests) the host heap stands in.
 */
#include <stdlib.h>

#include <wdm.h>

#include "rtl/rtl.h"
#include "sys.h"

static const ULONG rtl_string_tag = 0x536c7452; /* 'RtlS' as !poolused shows it */

void *rtl_alloc(size_t bytes)
{
    struct sys *sys = sys_get();
    if (sys && sys->booted)
        return ExAllocatePoolWithTag(PagedPool, bytes ? bytes : 1, rtl_string_tag);
    return calloc(1, bytes ? bytes : 1);
}

/* The caller checked p is not NULL. */
void rtl_free(void *p)
{
    struct sys *sys = sys_get();
    if (sys && sys->booted)
        ExFreePoolWithTag(p, rtl_string_tag);
    else
        free(p);
}
