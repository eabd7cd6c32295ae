/*
 * tests/machine/test_memory.c - physical memory: zones, placement, seeds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "machine/machine.h"

static void boot(struct machine *m, enum frame_placement placement, uint64_t seed)
{
    struct machine_config cfg;
    struct machine_error err;
    machine_config_default(&cfg);
    cfg.placement = placement;
    assert_int_equal(machine_create(m, &cfg, seed, &err), 0);
}

/* A frame from the <16 MiB zone really is below 16 MiB, and the zones are
 * where the spec puts them. */
static void test_zone_limits(void **state)
{
    (void)state;
    struct machine m;
    boot(&m, frame_placement_scattered, 7);
    uint64_t limit16 = (16ULL << 20) >> m.page_shift;
    for (int i = 0; i < 1000; i++) {
        uint64_t f = pfn_alloc(&m.pfn, limit16);
        assert_true(f != UINT64_MAX);
        assert_true((f << m.page_shift) < (16ULL << 20));
        assert_int_equal(pfn_zone_of(&m.pfn, f), pfn_zone_dma24);
        assert_true(machine_is_ram(&m, f << m.page_shift));
    }
    uint64_t limit4g = (4ULL << 30) >> m.page_shift;
    for (int i = 0; i < 1000; i++) {
        uint64_t f = pfn_alloc(&m.pfn, limit4g);
        assert_true((f << m.page_shift) < (4ULL << 30));
    }
    /* Unconstrained allocations prefer high memory, keeping low memory for
     * devices that need it. */
    uint64_t f = pfn_alloc(&m.pfn, UINT64_MAX);
    assert_int_equal(pfn_zone_of(&m.pfn, f), pfn_zone_high);
    machine_destroy(&m);
}

/* Frames never come from the holes (640 KiB - 1 MiB, 3 GiB - 4 GiB). */
static void test_holes_never_allocated(void **state)
{
    (void)state;
    struct machine m;
    boot(&m, frame_placement_contiguous, 1);
    uint64_t limit = (2ULL << 20) >> m.page_shift;
    uint64_t n = 0, f;
    while ((f = pfn_alloc(&m.pfn, limit)) != UINT64_MAX) {
        uint64_t pa = f << m.page_shift;
        assert_false(pa >= (640ULL << 10) && pa < (1ULL << 20));
        n++;
    }
    /* 0-640 KiB and 1-2 MiB, less frame 0, which is never handed out */
    assert_int_equal(n, (((640ULL << 10) + (1ULL << 20)) >> m.page_shift) - 1);
    assert_false(pfn_is_allocated(&m.pfn, 0));
    machine_destroy(&m);
}

static unsigned count_adjacent(const uint64_t *f, int n)
{
    unsigned adjacent = 0;
    for (int i = 1; i < n; i++)
        adjacent += f[i] == f[i - 1] + 1;
    return adjacent;
}

/* Scattered placement really scatters, is reproducible from the seed, and
 * differs between seeds; contiguous placement hands out neighbours. */
static void test_scattered_policy(void **state)
{
    (void)state;
    enum { n = 256 };
    uint64_t a[n], b[n], c[n], d[n];
    struct machine m;

    boot(&m, frame_placement_scattered, 42);
    for (int i = 0; i < n; i++)
        a[i] = pfn_alloc(&m.pfn, UINT64_MAX);
    machine_destroy(&m);
    boot(&m, frame_placement_scattered, 42);
    for (int i = 0; i < n; i++)
        b[i] = pfn_alloc(&m.pfn, UINT64_MAX);
    machine_destroy(&m);
    boot(&m, frame_placement_scattered, 43);
    for (int i = 0; i < n; i++)
        c[i] = pfn_alloc(&m.pfn, UINT64_MAX);
    machine_destroy(&m);
    boot(&m, frame_placement_contiguous, 42);
    for (int i = 0; i < n; i++)
        d[i] = pfn_alloc(&m.pfn, UINT64_MAX);
    machine_destroy(&m);

    assert_memory_equal(a, b, sizeof(a));
    assert_true(memcmp(a, c, sizeof(a)) != 0);
    assert_true(count_adjacent(a, n) < n / 10);
    assert_int_equal(count_adjacent(d, n), n - 1);
}

/* A freed frame is allocatable again and counts as free. */
static void test_free_accounting(void **state)
{
    (void)state;
    struct machine m;
    boot(&m, frame_placement_scattered, 3);
    uint64_t before = pfn_free_frames(&m.pfn);
    uint64_t f = pfn_alloc(&m.pfn, UINT64_MAX);
    assert_true(pfn_is_allocated(&m.pfn, f));
    assert_int_equal(pfn_free_frames(&m.pfn), before - 1);
    pfn_free(&m.pfn, f);
    assert_false(pfn_is_allocated(&m.pfn, f));
    assert_int_equal(pfn_free_frames(&m.pfn), before);
    machine_destroy(&m);
}

/* Contiguous runs respect limits and boundaries. */
static void test_contiguous_runs(void **state)
{
    (void)state;
    struct machine m;
    boot(&m, frame_placement_scattered, 5);
    uint64_t per64k = (64ULL << 10) >> m.page_shift;
    for (int i = 0; i < 50; i++) {
        uint64_t f = pfn_alloc_run(&m.pfn, 5, 0, (16ULL << 20) >> m.page_shift, per64k);
        assert_true(f != UINT64_MAX);
        assert_int_equal(f / per64k, (f + 4) / per64k);
        for (int k = 0; k < 5; k++)
            assert_true(pfn_is_allocated(&m.pfn, f + k));
    }
    machine_destroy(&m);
}

/* 8 KiB pages: frames are 8 KiB, zones scale. */
static void test_8k_pages(void **state)
{
    (void)state;
    struct machine_config cfg;
    struct machine_error err;
    struct machine m;
    machine_config_default(&cfg);
    cfg.page_shift = 13;
    assert_int_equal(machine_create(&m, &cfg, 1, &err), 0);
    assert_int_equal(m.page_size, 8192);
    uint64_t f = pfn_alloc(&m.pfn, (16ULL << 20) >> 13);
    assert_true((f << 13) < (16ULL << 20));
    assert_int_equal(m.pfn.ram_frames,
                     (((640ULL << 10) + (3ULL << 30) - (1ULL << 20) + (1ULL << 30)) >> 13) - 1);
    machine_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zone_limits),      cmocka_unit_test(test_holes_never_allocated),
        cmocka_unit_test(test_scattered_policy), cmocka_unit_test(test_free_accounting),
        cmocka_unit_test(test_contiguous_runs),  cmocka_unit_test(test_8k_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
