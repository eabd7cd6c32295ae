/*
 * src/rtl/alloc.c - buffers the Rtl string routines allocate for a caller.
 *
 * Models: the pool buffer behind RtlAnsiStringToUnicodeString(..., TRUE)
 * and friends, which only RtlFree*String may release.
 * Invariants: every buffer starts rtl_alloc_header_bytes after a header
 * holding a magic and its page count, so a free of anything else is caught.
 * Not modelled (yet): pool and the 'RtlS' tag - whole system pages from mm
 * stand in until src/ex exists; the memory issue switches this file to
 * ExAllocatePoolWithTag. With no machine running (host unit tests) the
 * host heap stands in.
 */
#include <stdlib.h>

#include <wdm.h>

#include "rtl/rtl.h"
#include "sys.h"

struct rtl_alloc_header {
    uint64_t magic;
    uint64_t npages; /* 0: host heap */
};
static const uint64_t rtl_alloc_magic = 0x5374524c53747252ull; /* "RtlSLrtS" */
enum { rtl_alloc_header_bytes = 16 };
_Static_assert(sizeof(struct rtl_alloc_header) == rtl_alloc_header_bytes,
               "header keeps 16 alignment");

void *rtl_alloc(size_t bytes)
{
    struct sys *sys = sys_get();
    struct rtl_alloc_header *h;
    if (sys && sys->booted) {
        uint64_t total = bytes + rtl_alloc_header_bytes;
        uint64_t npages = (total + sys->mm.page_size - 1) / sys->mm.page_size;
        h = mm_alloc_pages(&sys->mm, npages, UINT64_MAX);
        if (!h)
            return NULL;
        h->npages = npages;
    } else {
        h = calloc(1, bytes + rtl_alloc_header_bytes);
        if (!h)
            return NULL;
        h->npages = 0;
    }
    h->magic = rtl_alloc_magic;
    return (char *)h + rtl_alloc_header_bytes;
}

/* The caller checked p is not NULL. A buffer Rtl did not allocate stops
 * the machine as a bad pool free would (0xC2/0x46, invalid address). */
void rtl_free(void *p)
{
    struct sys *sys = sys_get();
    struct rtl_alloc_header *h = (void *)((char *)p - rtl_alloc_header_bytes);
    bool simulated = sys && sys->booted;
    if (simulated) {
        uint64_t *pte = mm_pte_of(&sys->mm, h);
        if (!pte || !(*pte & mm_pte_valid) || ((uintptr_t)h & (sys->mm.page_size - 1)) ||
            h->magic != rtl_alloc_magic || h->npages == 0)
            ke_bugcheck(0xC2, 0x46, (uint64_t)(uintptr_t)p, 0, 0, NULL,
                        "RtlFree*String of %p, a buffer no Rtl routine allocated", p);
        h->magic = 0;
        mm_free_pages(&sys->mm, h, h->npages);
        return;
    }
    if (h->magic != rtl_alloc_magic || h->npages != 0)
        abort(); /* host unit tests only: a test bug */
    h->magic = 0;
    free(h);
}
