/*
 * tests/mm/test_space.c - the system address space over real frames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "sys.h"

static wdmsim *sim;

static int setup(void **state)
{
    (void)state;
    struct wdmsim_config cfg = {.seed = 11};
    struct wdmsim_error err;
    return wdmsim_boot(&cfg, &sim, &err);
}

static int teardown(void **state)
{
    (void)state;
    wdmsim_shutdown(sim);
    return 0;
}

/* Two virtual pages mapped to one frame see each other's writes: they are
 * two real mappings of the same physical memory. */
static void aliasing(void *arg)
{
    (void)arg;
    struct mm *mm = &sys_get()->mm;
    uint8_t *a = mm_alloc_pages(mm, 1, UINT64_MAX);
    assert_non_null(a);
    uint8_t *b = mm_va_reserve(mm, 1);
    assert_non_null(b);
    uint64_t pa;
    assert_true(mm_va_to_pa(mm, a, &pa));
    assert_int_equal(mm_map_page(mm, b, pa >> mm->page_shift, mm_pte_write), 0);
    assert_ptr_not_equal(a, b);

    strcpy((char *)a + 100, "written through a");
    assert_string_equal((char *)b + 100, "written through a");
    b[200] = 0x5a;
    assert_int_equal(a[200], 0x5a);
    /* and the direct map (the bus's view) sees the same bytes */
    assert_int_equal(((uint8_t *)machine_pa_ptr(mm->machine, pa))[200], 0x5a);

    assert_int_equal(MmGetPhysicalAddress(a + 17).QuadPart, (LONGLONG)pa + 17);
    assert_int_equal(MmGetPhysicalAddress(b + 17).QuadPart, (LONGLONG)pa + 17);
    assert_int_equal(mm->machine->pfn.entries[pa >> mm->page_shift].map_count, 2);

    mm_va_release(mm, b, 1);
    assert_int_equal(mm->machine->pfn.entries[pa >> mm->page_shift].map_count, 1);
    mm_free_pages(mm, a, 1);
}

static void test_aliasing(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, aliasing, NULL), WDMSIM_OK);
}

/* Virtually contiguous memory sits on scattered frames. */
static void contiguity(void *arg)
{
    (void)arg;
    struct mm *mm = &sys_get()->mm;
    enum { n = 16 };
    uint8_t *va = mm_alloc_pages(mm, n, UINT64_MAX);
    assert_non_null(va);
    unsigned adjacent = 0;
    for (int i = 1; i < n; i++) {
        LONGLONG p0 = MmGetPhysicalAddress(va + (i - 1) * mm->page_size).QuadPart;
        LONGLONG p1 = MmGetPhysicalAddress(va + i * mm->page_size).QuadPart;
        adjacent += p1 == p0 + (LONGLONG)mm->page_size;
    }
    assert_true(adjacent < n / 2);
    memset(va, 0xab, n * mm->page_size); /* all of it is really there */
    mm_free_pages(mm, va, n);
}

static void test_contiguity(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, contiguity, NULL), WDMSIM_OK);
}

static void validity(void *arg)
{
    (void)arg;
    struct mm *mm = &sys_get()->mm;
    uint8_t *va = mm_alloc_pages(mm, 2, UINT64_MAX);
    assert_true(MmIsAddressValid(va));
    assert_true(MmIsAddressValid(va + mm->page_size + 5));
    mm_unmap_pages(mm, va + mm->page_size, 1);
    assert_true(MmIsAddressValid(va));
    assert_false(MmIsAddressValid(va + mm->page_size));
    assert_int_equal(MmGetPhysicalAddress(va + mm->page_size).QuadPart, 0);
    /* host memory outside the simulated spaces is not simulated RAM (a
     * static: kernel stacks are simulated memory since the execution issue) */
    static int local;
    assert_false(MmIsAddressValid(&local));
    assert_int_equal(MmGetPhysicalAddress(&local).QuadPart, 0);
    mm_free_pages(mm, va, 2);
}

static void test_validity(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, validity, NULL), WDMSIM_OK);
}

/* Frames below a limit stay below it (what bounce buffers will rely on). */
static void low_frames(void *arg)
{
    (void)arg;
    struct mm *mm = &sys_get()->mm;
    uint64_t limit = (16ULL << 20) >> mm->page_shift;
    uint8_t *va = mm_alloc_pages(mm, 8, limit);
    for (int i = 0; i < 8; i++)
        assert_true(MmGetPhysicalAddress(va + i * mm->page_size).QuadPart < (16LL << 20));
    mm_free_pages(mm, va, 8);
}

static void test_low_frames(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, low_frames, NULL), WDMSIM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aliasing),
        cmocka_unit_test(test_contiguity),
        cmocka_unit_test(test_validity),
        cmocka_unit_test(test_low_frames),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
