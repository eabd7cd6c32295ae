/*
 * tests/ex/test_pool_stress.c - a seeded random differential test of the
 * pool.
 *
 * Spec: spec/memory.md 4, spec/verifier.md 1. A seeded sequence of
 * ExAllocatePoolWithTag / ExAllocatePoolWithQuotaTag / ExAllocatePool2 and
 * ExFreePool / ExFreePoolWithTag / ExFreePool2 over every pool type (cache
 * aligned too), sizes 1 .. 3 pages, tags with and without PROTECTED_POOL,
 * some of it at DISPATCH_LEVEL, some while a lookaside list is live, some
 * with the event trace on (the free path changes with each), checked against a model kept here:
 * every block is aligned as its type says and never crosses a page, keeps its contents, occupies
 * what ex_pool_block_bytes says (0 once freed), and the per-tag counters equal the model's at
 * checkpoints and at the end. Run with pool tracking off ("none": frees checked against the page
 * record, headers checked when the blocks are handed out again) and on ("standard": every free
 * reads its header), on the default machine and on one with 8 KiB pages. The negative cases are
 * test_pool_free.c's and test_pool_uaf.c's.
 */
/* WDK tags are multi-character constants. */
#pragma GCC diagnostic ignored "-Wmultichar"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "ex/pool_impl.h"
#include "sys.h"

static const char *machine_ini; /* NULL: the default machine */

/* Even seeds keep the event trace (wdmsim run --trace): frees that are
 * observed take the full path. */
static wdmsim *boot(const char *verifier, uint64_t seed)
{
    struct wdmsim_config cfg = {
        .seed = seed, .verifier = verifier, .machine_path = machine_ini, .trace = !(seed & 1)};
    wdmsim *sim;
    struct wdmsim_error err;
    int rc = wdmsim_boot(&cfg, &sim, &err);
    if (rc != WDMSIM_OK)
        fprintf(stderr, "boot: %s\n", err.text);
    assert_int_equal(rc, WDMSIM_OK);
    return sim;
}

/* The 8 KiB machine: 2 processors, 2 GiB with a hole. */
static const char *ini_8k(void)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof(path), "/tmp/wdmsim-pool-stress-%d.ini", (int)getpid());
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("[machine]\nprocessors = 2\npage_size = 8192\n[memory]\nram = 0 - 640K\n"
              "ram = 1M - 2G\n",
              f);
        fclose(f);
    }
    return path;
}

/* ---- the random differential run ------------------------------------------------ */

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

enum { ntags = 5, nslots = 1024, nops = 40000, checkpoint = 5000 };
static const ULONG tags[ntags] = {'1rtS', '2rtS', '3rtS' | PROTECTED_POOL, '4rtS',
                                  '5rtS' | PROTECTED_POOL};

struct blk {
    uint8_t *p;
    SIZE_T n;
    uint64_t occ;
    uint8_t tag, kind, fill;
    bool ca;
};

struct model {
    struct blk b[nslots];
    int64_t allocs[ntags][ex_kind_count], frees[ntags][ex_kind_count], bytes[ntags][ex_kind_count];
    uint64_t seed, ops, at_dispatch, lookaside_frees, special;
};

static void fill(struct blk *b)
{
    for (SIZE_T i = 0; i < b->n; i++)
        b->p[i] = (uint8_t)(b->fill + i * 7);
}

static void check_contents(const struct blk *b)
{
    for (SIZE_T i = 0; i < b->n; i++)
        if (b->p[i] != (uint8_t)(b->fill + i * 7)) {
            fprintf(stderr, "block %p (%zu bytes, tag %u) byte %zu changed\n", (void *)b->p,
                    (size_t)b->n, b->tag, (size_t)i);
            fail();
        }
}

static void check_counters(struct model *m)
{
    struct ex *ex = &sys_get()->ex;
    for (int t = 0; t < ntags; t++)
        for (int k = 0; k < ex_kind_count; k++) {
            struct ex_tag_stat s = ex_pool_tag_stat(ex, tags[t], k);
            if (s.allocs != m->allocs[t][k] || s.frees != m->frees[t][k] ||
                s.bytes != m->bytes[t][k])
                fprintf(stderr,
                        "seed %llu tag %d kind %d: pool %lld/%lld/%lld, model %lld/%lld/%lld\n",
                        (unsigned long long)m->seed, t, k, (long long)s.allocs, (long long)s.frees,
                        (long long)s.bytes, (long long)m->allocs[t][k], (long long)m->frees[t][k],
                        (long long)m->bytes[t][k]);
            assert_int_equal(s.allocs, m->allocs[t][k]);
            assert_int_equal(s.frees, m->frees[t][k]);
            assert_int_equal(s.bytes, m->bytes[t][k]);
        }
}

static SIZE_T pick_size(uint64_t *s, uint64_t page)
{
    uint64_t x = xorshift(s), r = x % 100;
    if (r < 55)
        return 1 + (SIZE_T)((x >> 8) % 256);
    if (r < 88)
        return 1 + (SIZE_T)((x >> 8) % page);
    if (r < 92) /* around the small/big threshold */
        return (SIZE_T)(page - 48 + (x >> 8) % 64);
    return 1 + (SIZE_T)((x >> 8) % (3 * page));
}

static void do_alloc(struct model *m, struct blk *b, uint64_t *s, bool dispatch)
{
    struct sys *sys = sys_get();
    struct ex *ex = &sys->ex;
    uint64_t page = ex->page_size, x = xorshift(s);
    static const POOL_TYPE types[] = {NonPagedPool,          PagedPool,
                                      NonPagedPoolNx,        NonPagedPoolCacheAligned,
                                      PagedPoolCacheAligned, NonPagedPoolNxCacheAligned};
    static const uint8_t kinds[] = {ex_kind_nonpaged, ex_kind_paged, ex_kind_nx,
                                    ex_kind_nonpaged, ex_kind_paged, ex_kind_nx};
    static const POOL_FLAGS kinds2[] = {POOL_FLAG_NON_PAGED_EXECUTE, POOL_FLAG_PAGED,
                                        POOL_FLAG_NON_PAGED};
    b->n = pick_size(s, page);
    b->tag = (uint8_t)(x % ntags);
    b->fill = (uint8_t)(x >> 8);
    ULONG tag = tags[b->tag];
    unsigned api = (unsigned)(x >> 16) % 8;
    bool zeroed = false;
    if (api < 5) {
        unsigned t = (unsigned)(x >> 24) % 6;
        if (dispatch && kinds[t] == ex_kind_paged)
            t = t == 1 ? 0 : 5;
        b->kind = kinds[t];
        b->ca = types[t] & 4;
        b->p = api < 4 ? ExAllocatePoolWithTag(types[t], b->n, tag)
                       : ExAllocatePoolWithQuotaTag(types[t] | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE,
                                                    b->n, tag);
    } else {
        unsigned k = (unsigned)(x >> 24) % 3;
        if (dispatch && k == 1)
            k = 2;
        POOL_FLAGS f = kinds2[k];
        b->kind = k == 0 ? ex_kind_nonpaged : k == 1 ? ex_kind_paged : ex_kind_nx;
        b->ca = (x >> 28) & 1;
        if (b->ca)
            f |= POOL_FLAG_CACHE_ALIGNED;
        if ((x >> 29) & 1)
            f |= POOL_FLAG_UNINITIALIZED;
        else
            zeroed = true;
        if (api == 7)
            f |= POOL_FLAG_USE_QUOTA;
        if (api == 6 && (x >> 30) % 4 == 0)
            f |= POOL_FLAG_SPECIAL_POOL; /* host code may ask for it */
        b->p = ExAllocatePool2(f, b->n, tag);
    }
    assert_non_null(b->p);
    uintptr_t a = (uintptr_t)b->p;
    if (ex_special_owns(ex, b->p)) {
        /* verify end: the block ends as near its page's end as its alignment allows */
        uint64_t align = b->ca ? 64 : 16;
        assert_int_equal(a & (align - 1), 0);
        assert_int_equal((a + ((b->n + align - 1) & ~(align - 1))) & (page - 1), 0);
        m->special++;
    } else if (b->n + (b->ca ? 48 : 0) > ex->small_max) {
        assert_int_equal(a & (page - 1), 0);
    } else {
        assert_int_equal(a & (b->ca ? 63 : 15), 0);
        assert_true((a & ~(page - 1)) == ((a + b->n - 1) & ~(page - 1)));
        uint8_t pm = ex_pm_get(ex, ex_page_index(ex, b->p));
        assert_int_equal(pm, ex_pm_small + b->kind);
    }
    if (zeroed)
        for (SIZE_T i = 0; i < b->n; i++)
            assert_int_equal(b->p[i], 0);
    b->occ = ex_pool_block_bytes(ex, b->p);
    assert_true(b->occ >= b->n + (b->occ < page ? 16 : 0));
    if (b->occ > page)
        assert_int_equal(b->occ % page, 0);
    if (b->n >= 32)
        assert_int_equal(ex_pool_block_bytes(ex, b->p + 16), 0);
    fill(b);
    m->allocs[b->tag][b->kind]++;
    m->bytes[b->tag][b->kind] += (int64_t)b->occ;
}

static void do_free(struct model *m, struct blk *b, uint64_t *s)
{
    struct ex *ex = &sys_get()->ex;
    check_contents(b);
    ULONG tag = tags[b->tag];
    uint64_t x = xorshift(s);
    if (!(tag & PROTECTED_POOL) && x % 3 == 0)
        ExFreePool(b->p);
    else if (x % 3 == 1)
        ExFreePool2(b->p, tag, NULL, 0);
    else
        ExFreePoolWithTag(b->p, tag);
    assert_int_equal(ex_pool_block_bytes(ex, b->p), 0);
    m->frees[b->tag][b->kind]++;
    m->bytes[b->tag][b->kind] -= (int64_t)b->occ;
    b->p = NULL;
}

static void stress_body(void *arg)
{
    struct model *m = arg;
    struct ex *ex = &sys_get()->ex;
    static NPAGED_LOOKASIDE_LIST la;
    bool la_live = false;
    uint64_t s = m->seed * 0x9E3779B97F4A7C15ULL + 1;
    for (uint64_t op = 0; op < m->ops; op++) {
        uint64_t x = xorshift(&s);
        /* a live lookaside list sends every free down the full path */
        if (op % 1000 == 400) {
            ExInitializeNPagedLookasideList(&la, NULL, NULL, 0, 64, 'sLtS', 0);
            la_live = true;
        } else if (op % 1000 == 700) {
            ExDeleteNPagedLookasideList(&la);
            la_live = false;
        }
        struct blk *b = &m->b[x % nslots];
        bool dispatch = (x >> 40) % 8 == 0 && (!b->p || b->kind != ex_kind_paged);
        KIRQL old = PASSIVE_LEVEL;
        if (dispatch) {
            KeRaiseIrql(DISPATCH_LEVEL, &old);
            m->at_dispatch++;
        }
        if (b->p) {
            m->lookaside_frees += la_live;
            do_free(m, b, &s);
        } else {
            do_alloc(m, b, &s, dispatch);
        }
        if (dispatch)
            KeLowerIrql(old);
        if (op % checkpoint == checkpoint - 1)
            check_counters(m);
    }
    if (la_live)
        ExDeleteNPagedLookasideList(&la);
    for (int i = 0; i < nslots; i++)
        if (m->b[i].p)
            do_free(m, &m->b[i], &s);
    check_counters(m);
    for (int t = 0; t < ntags; t++)
        for (int k = 0; k < ex_kind_count; k++)
            assert_int_equal(m->bytes[t][k], 0);
    /* every block went back: a trim leaves only the few empty pages it keeps */
    ex_pool_trim(ex);
    for (int i = 0; i < ex_heaps; i++)
        for (int k = 0; k < ex_kind_count; k++)
            assert_true(ex->heaps[i][k].nempty <= 16);
}

static void stress(const char *verifier, uint64_t seed)
{
    static struct model m;
    memset(&m, 0, sizeof(m));
    m.seed = seed;
    m.ops = nops;
    wdmsim *sim = boot(verifier, seed);
    int rc = wdmsim_call(sim, stress_body, &m);
    if (rc != WDMSIM_OK) {
        fprintf(stderr, "pool stress: verifier %s, seed %llu, machine %s\n", verifier,
                (unsigned long long)seed, machine_ini ? machine_ini : "default");
        wdmsim_report_print(sim, stderr);
    }
    assert_int_equal(rc, WDMSIM_OK);
    assert_true(m.at_dispatch > 0);
    assert_true(m.lookaside_frees > 0);
    assert_true(m.special > 0);
    wdmsim_shutdown(sim);
}

/* WDMSIM_POOL_STRESS_SEEDS=N runs N seeds per machine instead (the full set). */
static uint64_t nseeds(uint64_t quick)
{
    const char *e = getenv("WDMSIM_POOL_STRESS_SEEDS");
    return e && *e ? strtoull(e, NULL, 10) : quick;
}

static void test_stress_default_machine(void **state)
{
    (void)state;
    machine_ini = NULL;
    for (uint64_t seed = 1; seed <= nseeds(2); seed++) {
        stress("none", seed);
        stress("standard", seed);
    }
}

static void test_stress_8k_pages(void **state)
{
    (void)state;
    machine_ini = ini_8k();
    for (uint64_t seed = 1; seed <= nseeds(1); seed++) {
        stress("none", 1000 + seed);
        stress("standard", 1000 + seed);
    }
    machine_ini = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress_default_machine),
        cmocka_unit_test(test_stress_8k_pages),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(ini_8k());
    return rc;
}
