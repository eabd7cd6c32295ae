/*
 * tests/ex/test_contiguous.c - contiguous and non-cached memory
 * (src/mm/contiguous.c; here beside the pool tests that share its page
 * runs). Spec: spec/memory.md 6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "sys.h"

static PHYSICAL_ADDRESS pa_of(uint64_t v)
{
    PHYSICAL_ADDRESS p;
    p.QuadPart = (LONGLONG)v;
    return p;
}

static void check_contiguous(uint8_t *va, uint64_t bytes)
{
    uint64_t first = (uint64_t)MmGetPhysicalAddress(va).QuadPart;
    assert_true(first != 0);
    assert_int_equal((uintptr_t)va & 4095, 0);
    for (uint64_t off = 0; off < bytes; off += 4096)
        assert_int_equal((uint64_t)MmGetPhysicalAddress(va + off).QuadPart, first + off);
}

static void contiguous_body(void *arg)
{
    (void)arg;
    /* below 16 MiB, as an ISA device needs */
    uint8_t *a = MmAllocateContiguousMemorySpecifyCache(20000, pa_of(0), pa_of(0xFFFFFF), pa_of(0),
                                                        MmNonCached);
    assert_non_null(a);
    check_contiguous(a, 20000);
    uint64_t pa = (uint64_t)MmGetPhysicalAddress(a).QuadPart;
    assert_true(pa + 20000 <= 0x1000000);
    memset(a, 1, 20000);
    /* a 64 KiB boundary is never crossed, however often we ask */
    void *keep[40];
    for (int i = 0; i < 40; i++) {
        keep[i] = MmAllocateContiguousMemorySpecifyCache(
            3 * 4096 + 100, pa_of(0x100000), pa_of(0xFFFFFFFF), pa_of(0x10000), MmCached);
        assert_non_null(keep[i]);
        uint64_t s = (uint64_t)MmGetPhysicalAddress(keep[i]).QuadPart;
        assert_true(s >= 0x100000);
        assert_int_equal(s / 0x10000, (s + 4 * 4096 - 1) / 0x10000);
        check_contiguous(keep[i], 4 * 4096);
    }
    for (int i = 0; i < 40; i++)
        MmFreeContiguousMemorySpecifyCache(keep[i], 3 * 4096 + 100, MmCached);
    /* a boundary smaller than the block cannot be met */
    assert_null(
        MmAllocateContiguousMemorySpecifyCache(8192, pa_of(0), pa_of(-1), pa_of(4096), MmCached));
    assert_null(MmAllocateContiguousMemorySpecifyCache(0, pa_of(0), pa_of(-1), pa_of(0), MmCached));
    /* an empty window */
    assert_null(MmAllocateContiguousMemorySpecifyCache(4096, pa_of(0x10000), pa_of(0xFFFF),
                                                       pa_of(0), MmCached));
    MmFreeContiguousMemory(a);
    uint8_t *b = MmAllocateContiguousMemory(100, pa_of(-1));
    assert_non_null(b);
    check_contiguous(b, 100);
    MmFreeContiguousMemory(b);
    uint8_t *n = MmAllocateContiguousNodeMemory(8192, pa_of(0), pa_of(-1), pa_of(0),
                                                PAGE_READWRITE | PAGE_NOCACHE, MM_ANY_NODE_OK);
    assert_non_null(n);
    MmFreeContiguousMemorySpecifyCache(n, 8192, MmNonCached);
    assert_null(MmAllocateContiguousNodeMemory(8192, pa_of(0), pa_of(-1), pa_of(0), PAGE_READONLY,
                                               MM_ANY_NODE_OK));
    uint8_t *s = MmAllocateContiguousMemorySpecifyCacheNode(4096, pa_of(0), pa_of(-1), pa_of(0),
                                                            MmWriteCombined, 0);
    assert_non_null(s);
    MmFreeContiguousMemorySpecifyCache(s, 4096, MmWriteCombined);
}

static void test_contiguous(void **state)
{
    (void)state;
    struct wdmsim_config cfg = {.seed = 5, .verifier = "standard"};
    wdmsim *sim;
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_call(sim, contiguous_body, NULL), WDMSIM_OK);
    wdmsim_shutdown(sim);
}

static void noncached_body(void *arg)
{
    (void)arg;
    uint8_t *p = MmAllocateNonCachedMemory(1);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p & 4095, 0);
    memset(p, 0x5A, 4096); /* a whole page, although one byte was asked */
    assert_true(MmGetPhysicalAddress(p).QuadPart != 0);
    MmFreeNonCachedMemory(p, 1);
    assert_null(MmAllocateNonCachedMemory(0));
    uint8_t *q = MmAllocateNonCachedMemory(3 * 4096);
    assert_non_null(q);
    memset(q, 1, 3 * 4096);
    MmFreeNonCachedMemory(q, 3 * 4096);
}

static void bad_size_body(void *arg)
{
    (void)arg;
    uint8_t *q = MmAllocateNonCachedMemory(3 * 4096);
    MmFreeNonCachedMemory(q, 4096);
}

static void test_noncached(void **state)
{
    (void)state;
    struct wdmsim_config cfg = {.seed = 5, .verifier = "standard"};
    wdmsim *sim;
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_call(sim, noncached_body, NULL), WDMSIM_OK);
    assert_int_equal(wdmsim_call(sim, bad_size_body, NULL), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    assert_int_equal(bc->code, 0xC2);
    assert_int_equal(bc->parameters[0], 0x60);
    wdmsim_shutdown(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contiguous),
        cmocka_unit_test(test_noncached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
