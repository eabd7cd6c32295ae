/*
 * tests/ex/test_lookaside.c - lookaside lists: layouts, inline allocate and
 * free, counters, Ex parameters, depth tuning, the la.* rules
 * (src/ex/lookaside*.c, include/ddk/wdm/lookaside.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

/* pool tags are multi-character constants, as in driver code */
#pragma GCC diagnostic ignored "-Wmultichar"

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "sys.h"
#include "support/fixture.h"

static wdmsim *sim;

static int setup(void **state)
{
    (void)state;
    struct wdmsim_config cfg = {.seed = 7};
    struct wdmsim_error err;
    return wdmsim_boot(&cfg, &sim, &err);
}

static int teardown(void **state)
{
    (void)state;
    wdmsim_shutdown(sim);
    return 0;
}

static void layouts(void **state)
{
    (void)state;
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, ListHead), 0);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, Depth), 16);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, MaximumDepth), 18);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, TotalAllocates), 20);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, AllocateMisses), 24);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, TotalFrees), 28);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, FreeMisses), 32);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, Type), 36);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, Tag), 40);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, Size), 44);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, Allocate), 48);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, Free), 56);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, ListEntry), 64);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, LastTotalAllocates), 80);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, LastAllocateMisses), 84);
    assert_int_equal(offsetof(GENERAL_LOOKASIDE, Future), 88);
    assert_int_equal(sizeof(NPAGED_LOOKASIDE_LIST), 128);
    assert_int_equal(sizeof(PAGED_LOOKASIDE_LIST), 128);
    assert_int_equal(_Alignof(NPAGED_LOOKASIDE_LIST), 64);
    assert_int_equal(sizeof(LOOKASIDE_LIST_EX), 96);
    assert_int_equal(offsetof(LOOKASIDE_LIST_EX, L.AllocateEx), 48);
    assert_int_equal(LOOKASIDE_MINIMUM_BLOCK_SIZE, 8);
}

/* ---- classic lists ------------------------------------------------------------- */

static void nonpaged_body(void *arg)
{
    (void)arg;
    static NPAGED_LOOKASIDE_LIST la;
    ExInitializeNPagedLookasideList(&la, NULL, NULL, 0, 100, 'tseT', 0);
    assert_int_equal(la.L.Depth, 4);
    assert_int_equal(la.L.MaximumDepth, 256);
    assert_int_equal(la.L.Size, 100);
    assert_int_equal(la.L.Tag, 'tseT');
    assert_int_equal(la.L.Type, NonPagedPool);
    assert_ptr_equal(la.L.Allocate, ExAllocatePoolWithTag);
    assert_int_equal(ExQueryDepthSList(&la.L.ListHead), 0); /* no preallocation */
    PVOID p[6];
    for (int i = 0; i < 6; i++) {
        p[i] = ExAllocateFromNPagedLookasideList(&la);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] & 15, 0);
        memset(p[i], 0xA5, 100);
    }
    assert_int_equal(la.L.TotalAllocates, 6);
    assert_int_equal(la.L.AllocateMisses, 6);
    for (int i = 0; i < 6; i++)
        ExFreeToNPagedLookasideList(&la, p[i]);
    assert_int_equal(la.L.TotalFrees, 6);
    assert_int_equal(la.L.FreeMisses, 2); /* depth 4 held, 2 to pool */
    assert_int_equal(ExQueryDepthSList(&la.L.ListHead), 4);
    /* LIFO: the last one freed to the list comes back first */
    assert_ptr_equal(ExAllocateFromNPagedLookasideList(&la), p[3]);
    assert_int_equal(la.L.AllocateMisses, 6);
    ExFreeToNPagedLookasideList(&la, p[3]);
    ExDeleteNPagedLookasideList(&la);
    assert_int_equal(sys_get()->ex.lookaside.count, 0);
}

static void nonpaged(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, nonpaged_body, NULL), WDMSIM_OK);
}

static int custom_allocs, custom_frees;
static char custom_pool[8][64] __attribute__((aligned(16)));

static PVOID NTAPI custom_allocate(POOL_TYPE type, SIZE_T bytes, ULONG tag)
{
    assert_int_equal(type, PagedPool | POOL_RAISE_IF_ALLOCATION_FAILURE);
    assert_int_equal(bytes, 64);
    assert_int_equal(tag, 'suC');
    return custom_allocs < 8 ? custom_pool[custom_allocs++] : NULL;
}

static VOID NTAPI custom_free(PVOID p)
{
    (void)p;
    custom_frees++;
}

static void paged_custom_body(void *arg)
{
    (void)arg;
    static PAGED_LOOKASIDE_LIST la;
    ExInitializePagedLookasideList(&la, custom_allocate, custom_free,
                                   POOL_RAISE_IF_ALLOCATION_FAILURE, 64, 'suC', 0);
    PVOID a = ExAllocateFromPagedLookasideList(&la), b = ExAllocateFromPagedLookasideList(&la);
    assert_ptr_equal(a, custom_pool[0]);
    assert_ptr_equal(b, custom_pool[1]);
    ExFreeToPagedLookasideList(&la, a);
    ExFreeToPagedLookasideList(&la, b);
    assert_int_equal(custom_frees, 0);
    ExDeletePagedLookasideList(&la); /* held entries go to Free */
    assert_int_equal(custom_frees, 2);
}

static void paged_custom(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, paged_custom_body, NULL), WDMSIM_OK);
}

/* An entry freed twice to the list makes its chain a cycle (the entry's
 * link points at itself). Delete hands the Free callback as many entries
 * as the list's depth says and ends, where popping until empty would spin
 * forever with a Free that does not notice. */
static void double_free_cycle_body(void *arg)
{
    (void)arg;
    static PAGED_LOOKASIDE_LIST la;
    custom_frees = 0;
    ExInitializePagedLookasideList(&la, custom_allocate, custom_free,
                                   POOL_RAISE_IF_ALLOCATION_FAILURE, 64, 'suC', 0);
    PVOID a = ExAllocateFromPagedLookasideList(&la);
    ExFreeToPagedLookasideList(&la, a);
    ExFreeToPagedLookasideList(&la, a); /* the driver's bug */
    ExDeletePagedLookasideList(&la);
    assert_int_equal(custom_frees, 2);
}

static void double_free_cycle(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, double_free_cycle_body, NULL), WDMSIM_OK);
}

/* ---- Ex lists ----------------------------------------------------------------------- */

static int ex_allocs, ex_frees;
static PLOOKASIDE_LIST_EX ex_seen;

static PVOID NTAPI ex_allocate(POOL_TYPE type, SIZE_T bytes, ULONG tag, PLOOKASIDE_LIST_EX l)
{
    ex_seen = l;
    ex_allocs++;
    assert_int_equal(type, NonPagedPoolNx | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE);
    return ExAllocatePoolWithTag(NonPagedPoolNx, bytes, tag);
}

static VOID NTAPI ex_free(PVOID p, PLOOKASIDE_LIST_EX l)
{
    assert_ptr_equal(l, ex_seen);
    ex_frees++;
    ExFreePool(p);
}

static void ex_body(void *arg)
{
    (void)arg;
    static LOOKASIDE_LIST_EX la;
    assert_int_equal(ExInitializeLookasideListEx(&la, NULL, NULL, (POOL_TYPE)3, 0, 32, 'xE', 0),
                     STATUS_INVALID_PARAMETER_4);
    assert_int_equal(ExInitializeLookasideListEx(&la, NULL, NULL, NonPagedPoolNx, 3, 32, 'xE', 0),
                     STATUS_INVALID_PARAMETER_5);
    assert_int_equal(ExInitializeLookasideListEx(&la, NULL, NULL, NonPagedPoolNx,
                                                 EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE, 32, 'xE',
                                                 0),
                     STATUS_INVALID_PARAMETER_5); /* needs a custom allocator */
    assert_int_equal(
        ExInitializeLookasideListEx(&la, NULL, NULL, NonPagedPoolNx, 0x10, 32, 'xE', 0),
        STATUS_INVALID_PARAMETER_5);
    assert_int_equal(sys_get()->ex.lookaside.count, 0); /* failures record nothing */

    assert_int_equal(ExInitializeLookasideListEx(&la, ex_allocate, ex_free, NonPagedPoolNx,
                                                 EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE, 32, 'xE',
                                                 0),
                     STATUS_SUCCESS);
    PVOID p[5];
    for (int i = 0; i < 5; i++)
        p[i] = ExAllocateFromLookasideListEx(&la);
    assert_ptr_equal(ex_seen, &la);
    assert_int_equal(ex_allocs, 5);
    for (int i = 0; i < 5; i++)
        ExFreeToLookasideListEx(&la, p[i]);
    assert_int_equal(ex_frees, 1);
    assert_int_equal(la.L.FreeMisses, 1);
    ExFlushLookasideListEx(&la);
    assert_int_equal(ex_frees, 5);
    assert_int_equal(ExQueryDepthSList(&la.L.ListHead), 0);
    p[0] = ExAllocateFromLookasideListEx(&la); /* still usable after a flush */
    ExFreeToLookasideListEx(&la, p[0]);
    ExDeleteLookasideListEx(&la);
    assert_int_equal(ex_frees, 6);

    /* the default allocator with RAISE_ON_FAIL */
    assert_int_equal(ExInitializeLookasideListEx(&la, NULL, NULL, PagedPool,
                                                 EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL, 48, 'xE',
                                                 0),
                     STATUS_SUCCESS);
    assert_int_equal(la.L.Type, PagedPool | POOL_RAISE_IF_ALLOCATION_FAILURE);
    p[0] = ExAllocateFromLookasideListEx(&la);
    assert_non_null(p[0]);
    ExFreeToLookasideListEx(&la, p[0]);
    ExDeleteLookasideListEx(&la);
}

static void ex_lists(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, ex_body, NULL), WDMSIM_OK);
}

/* ---- depth tuning ---------------------------------------------------------------------- */

static struct ex_lookaside_counters counters(unsigned depth, uint32_t allocs, uint32_t misses)
{
    return (struct ex_lookaside_counters){.depth = (uint16_t)depth,
                                          .maximum_depth = 256,
                                          .total_allocates = 1000 + allocs,
                                          .allocate_misses = 100 + misses,
                                          .last_total_allocates = 1000,
                                          .last_allocate_misses = 100};
}

static void adjust_rule(void **state)
{
    (void)state;
    /* little use (< 75 in 3 s): -10, floor 4 */
    struct ex_lookaside_counters c = counters(40, 74, 50);
    ex_lookaside_adjust(&c, 3, 4);
    assert_int_equal(c.depth, 30);
    assert_int_equal(c.last_total_allocates, 1074);
    assert_int_equal(c.last_allocate_misses, 150);
    c = counters(12, 0, 0);
    ex_lookaside_adjust(&c, 3, 4);
    assert_int_equal(c.depth, 4);
    /* busy, miss rate < 0.5 %: -1 */
    c = counters(20, 1000, 4);
    ex_lookaside_adjust(&c, 3, 4);
    assert_int_equal(c.depth, 19);
    c = counters(4, 1000, 0);
    ex_lookaside_adjust(&c, 3, 4);
    assert_int_equal(c.depth, 4);
    /* busy, misses: + min(30, R * (max - depth) / 2000 + 5) */
    c = counters(4, 1000, 10); /* R 10: 10 * 252 / 2000 + 5 = 6 */
    ex_lookaside_adjust(&c, 3, 4);
    assert_int_equal(c.depth, 10);
    c = counters(4, 1000, 1000); /* R 1000: capped at 30 */
    ex_lookaside_adjust(&c, 3, 4);
    assert_int_equal(c.depth, 34);
    c = counters(250, 1000, 1000); /* capped at MaximumDepth */
    ex_lookaside_adjust(&c, 3, 4);
    assert_int_equal(c.depth, 256);
    /* lookasides disabled */
    c = counters(50, 1000, 1000);
    ex_lookaside_adjust(&c, 3, 0);
    assert_int_equal(c.depth, 0);
    /* counters wrap */
    c = counters(4, 0, 0);
    c.last_total_allocates = 0xFFFFFF00u;
    c.total_allocates = 0x100; /* 512 allocations across the wrap */
    c.last_allocate_misses = 0xFFFFFFF0u;
    c.allocate_misses = 0x10; /* 32 misses: R 62 */
    ex_lookaside_adjust(&c, 3, 4);
    assert_int_equal(c.depth, 4 + 62 * 252 / 2000 + 5);
}

static void tick_body(void *arg)
{
    (void)arg;
    struct sys *sys = sys_get();
    static NPAGED_LOOKASIDE_LIST np;
    static PAGED_LOOKASIDE_LIST pg;
    ExInitializeNPagedLookasideList(&np, NULL, NULL, 0, 64, 'kciT', 0);
    ExInitializePagedLookasideList(&pg, NULL, NULL, 0, 64, 'kciT', 0);
    /* a burst with many live entries: every allocation misses */
    static PVOID p[200];
    for (int i = 0; i < 200; i++)
        p[i] = ExAllocateFromNPagedLookasideList(&np);
    for (int i = 0; i < 200; i++)
        ExFreeToNPagedLookasideList(&np, p[i]);
    sys->ex.lookaside.ticks = 0;
    ex_lookaside_tick(sys); /* tick 0: nonpaged lists */
    assert_int_equal(np.L.Depth, 4 + 30);
    assert_int_equal(np.L.LastTotalAllocates, 200);
    assert_int_equal(pg.L.Depth, 4);
    ex_lookaside_tick(sys); /* tick 1: paged lists (idle: stays at the floor) */
    assert_int_equal(pg.L.LastTotalAllocates, 0);
    assert_int_equal(np.L.Depth, 34);
    ex_lookaside_tick(sys); /* tick 2: pool lists */
    ex_lookaside_tick(sys); /* tick 0 again: no use since, shrink by 10 */
    assert_int_equal(np.L.Depth, 24);
    /* the virtual clock drives the same ticks while lists are live */
    assert_true(sys->ex.lookaside.tick_event != 0);
    ExDeleteNPagedLookasideList(&np);
    ExDeletePagedLookasideList(&pg);
    assert_int_equal(sys->ex.lookaside.tick_event, 0);
}

static void tick(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, tick_body, NULL), WDMSIM_OK);
}

static void clock_body(void *arg)
{
    (void)arg;
    struct sys *sys = sys_get();
    static NPAGED_LOOKASIDE_LIST np;
    ExInitializeNPagedLookasideList(&np, NULL, NULL, 0, 64, 'kclC', 0);
    static PVOID p[100];
    for (int i = 0; i < 100; i++)
        p[i] = ExAllocateFromNPagedLookasideList(&np);
    for (int i = 0; i < 100; i++)
        ExFreeToNPagedLookasideList(&np, p[i]);
    uint64_t t0 = sys->ex.lookaside.ticks;
    struct vclock *clock = &sys->machine.clock;
    for (int s = 0; s < 3; s++) {
        vclock_advance(clock, clock->now + 1000000000ull);
        vclock_run_due(clock);
    }
    assert_int_equal(sys->ex.lookaside.ticks, t0 + 3);
    assert_true(np.L.Depth > 4); /* the tick-0 pass saw the burst */
    ExDeleteNPagedLookasideList(&np);
}

static void on_the_clock(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, clock_body, NULL), WDMSIM_OK);
}

/* Special pool disables lookasides: Depth 0, every entry through pool. */
static void disabled_body(void *arg)
{
    (void)arg;
    static NPAGED_LOOKASIDE_LIST np;
    ExInitializeNPagedLookasideList(&np, NULL, NULL, 0, 64, 'sidL', 0);
    assert_int_equal(np.L.Depth, 0);
    PVOID p = ExAllocateFromNPagedLookasideList(&np);
    ExFreeToNPagedLookasideList(&np, p);
    assert_int_equal(np.L.FreeMisses, 1);
    assert_int_equal(ExQueryDepthSList(&np.L.ListHead), 0);
    ExDeleteNPagedLookasideList(&np);
}

static void disabled_with_special_pool(void **state)
{
    (void)state;
    wdmsim *m;
    struct wdmsim_config cfg = {.seed = 8, .verifier = "standard,special-pool"};
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &m, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_call(m, disabled_body, NULL), WDMSIM_OK);
    wdmsim_shutdown(m);
}

/* ---- rules ---------------------------------------------------------------------------------- */

static const struct wdmsim_bugcheck *stop_of(void (*fn)(void *))
{
    static wdmsim *m;
    if (m)
        wdmsim_shutdown(m);
    struct wdmsim_config cfg = {.seed = 9};
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &m, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_call(m, fn, NULL), WDMSIM_STOPPED);
    return wdmsim_get_bugcheck(m);
}

static void reinit(void *arg)
{
    (void)arg;
    static NPAGED_LOOKASIDE_LIST la;
    ExInitializeNPagedLookasideList(&la, NULL, NULL, 0, 64, 'R', 0);
    ExInitializeNPagedLookasideList(&la, NULL, NULL, 0, 64, 'R', 0);
}

static void delete_twice(void *arg)
{
    (void)arg;
    static LOOKASIDE_LIST_EX la;
    ExInitializeLookasideListEx(&la, NULL, NULL, PagedPool, 0, 64, 'D', 0);
    ExDeleteLookasideListEx(&la);
    ExDeleteLookasideListEx(&la);
}

static void too_small(void *arg)
{
    (void)arg;
    static NPAGED_LOOKASIDE_LIST la;
    ExInitializeNPagedLookasideList(&la, NULL, NULL, 0, 7, 'S', 0);
}

static void free_containing(void *arg)
{
    (void)arg;
    NPAGED_LOOKASIDE_LIST *la = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*la) + 64, 'F');
    ExInitializeNPagedLookasideList(la, NULL, NULL, 0, 64, 'F', 0);
    ex_lookaside_check_free(sys_get(), la, sizeof(*la) + 64);
}

static void rules(void **state)
{
    (void)state;
    const struct wdmsim_bugcheck *bc = stop_of(reinit);
    assert_int_equal(bc->code, 0xC4);
    assert_int_equal(bc->parameters[0], 0xCA);
    bc = stop_of(delete_twice);
    assert_int_equal(bc->code, 0xC4);
    assert_int_equal(bc->parameters[0], 0xCB);
    bc = stop_of(too_small);
    assert_int_equal(bc->code, 0xC4);
    assert_int_equal(bc->parameters[0], 0xCD);
    assert_int_equal(bc->parameters[2], 7);
    assert_int_equal(bc->parameters[3], 8);
    bc = stop_of(free_containing);
    assert_int_equal(bc->code, 0xC4);
    assert_int_equal(bc->parameters[0], 0xCC);
}

static void fixtures(void **state)
{
    (void)state;
    fixture_expect_stop("la-reinit", NULL, 0xC4, 0xCA);
    fixture_expect_stop("la-delete-uninit", NULL, 0xC4, 0xCB);
    fixture_expect_stop("la-size-too-small", NULL, 0xC4, 0xCD);
    fixture_expect_stop("la-live-at-unload", NULL, 0xC7, 0x57000001);
    fixture_expect_stop("la-free-containing", NULL, 0xC4, 0xCC);
    /* without pool tracking or special pool the free would take the fast
     * path, which a live lookaside list must close (ex->free_gate) */
    fixture_expect_stop("la-free-containing", "misc", 0xC4, 0xCC);

    struct fixture_run r;
    fixture_run("lookaside-ok", NULL, NULL, 1, &r);
    assert_int_equal(r.load_rc, WDMSIM_OK);
    assert_false(r.stopped);
    assert_int_equal(r.entry_status, STATUS_SUCCESS);

    /* la.depth-nonzero reports and lets the driver run on */
    wdmsim *m;
    struct wdmsim_config cfg = {.seed = 1};
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &m, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_load_driver(m, fixture_path("la-depth-nonzero"), &err), WDMSIM_OK);
    assert_int_equal(wdmsim_unload_drivers(m), WDMSIM_OK);
    assert_int_equal(wdmsim_violations(m), 1);
    assert_null(wdmsim_get_bugcheck(m));
    wdmsim_shutdown(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layouts),
        cmocka_unit_test(nonpaged),
        cmocka_unit_test(paged_custom),
        cmocka_unit_test(double_free_cycle),
        cmocka_unit_test(ex_lists),
        cmocka_unit_test(adjust_rule),
        cmocka_unit_test(tick),
        cmocka_unit_test(on_the_clock),
        cmocka_unit_test(disabled_with_special_pool),
        cmocka_unit_test(rules),
        cmocka_unit_test(fixtures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
