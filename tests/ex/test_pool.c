/*
 * tests/ex/test_pool.c - the pool allocators, called as kernel code.
 *
 * Spec: spec/memory.md 4. Alignment for every pool type, the page rules
 * (a block under a page never crosses one; >= PAGE_SIZE starts on one),
 * the seed's page-rounding example, zeroing and fill, tag counters,
 * pageable PTEs of paged pool, MmGetPhysicalAddress on pool, raising on
 * failure, ExAllocatePool2/3 flags, special pool placement, batches
 * through the depot, two host threads freeing each other's blocks.
 */
/* WDK tags are multi-character constants. */
#pragma GCC diagnostic ignored "-Wmultichar"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "ex/pool_impl.h"
#include "sys.h"

static wdmsim *boot(const char *verifier)
{
    struct wdmsim_config cfg = {.seed = 7, .verifier = verifier};
    wdmsim *sim;
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    return sim;
}

static void run(const char *verifier, void (*fn)(void *), void *arg)
{
    wdmsim *sim = boot(verifier);
    int rc = wdmsim_call(sim, fn, arg);
    if (rc != WDMSIM_OK)
        wdmsim_report_print(sim, stderr);
    assert_int_equal(rc, WDMSIM_OK);
    wdmsim_shutdown(sim);
}

/* ---- alignment and page rules ------------------------------------------------- */

static void alignment_body(void *arg)
{
    (void)arg;
    static const POOL_TYPE types[] = {NonPagedPool,
                                      PagedPool,
                                      NonPagedPoolCacheAligned,
                                      PagedPoolCacheAligned,
                                      NonPagedPoolNx,
                                      NonPagedPoolNxCacheAligned,
                                      NonPagedPool | POOL_COLD_ALLOCATION,
                                      PagedPool | POOL_NX_ALLOCATION};
    uint64_t page = sys_get()->mm.page_size;
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        bool ca = (types[t] & 4) != 0;
        void *keep[64];
        int nkeep = 0;
        for (SIZE_T n = 1; n <= 3 * page; n += (n < 256 ? 7 : 331)) {
            uint8_t *p = ExAllocatePoolWithTag(types[t], n, 'tseT');
            assert_non_null(p);
            uintptr_t a = (uintptr_t)p;
            if (n >= page)
                assert_int_equal(a & (page - 1), 0);
            else
                assert_int_equal(a & (ca ? 63 : 15), 0);
            if (n <= page) /* never crosses a page boundary */
                assert_true((a & ~(page - 1)) == ((a + n - 1) & ~(page - 1)));
            memset(p, 0xEE, n);
            if (nkeep < 64 && (n % 3) == 0)
                keep[nkeep++] = p;
            else
                ExFreePoolWithTag(p, 'tseT');
        }
        while (nkeep)
            ExFreePoolWithTag(keep[--nkeep], 'tseT');
    }
}

static void test_alignment_every_type(void **state)
{
    (void)state;
    run("none", alignment_body, NULL);
    run("standard", alignment_body, NULL);
}

/* The seed's example: a 5 KB request occupies 8 KB; 4 KB and 1 KB in two
 * requests occupy 5 KB (and the 1 KB block's 16-byte header). */
static void rounding_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    void *a = ExAllocatePoolWithTag(NonPagedPoolNx, 5 * 1024, 'tseT');
    void *b = ExAllocatePoolWithTag(NonPagedPoolNx, 4 * 1024, 'tseT');
    void *c = ExAllocatePoolWithTag(NonPagedPoolNx, 1 * 1024, 'tseT');
    assert_int_equal(ex_pool_block_bytes(ex, a), 8192);
    assert_int_equal(ex_pool_block_bytes(ex, b) + ex_pool_block_bytes(ex, c), 5 * 1024 + 16);
    /* The threshold: PAGE_SIZE - 32 is the largest small block. */
    void *d = ExAllocatePoolWithTag(NonPagedPoolNx, 4064, 'tseT');
    void *e = ExAllocatePoolWithTag(NonPagedPoolNx, 4065, 'tseT');
    assert_int_equal(ex_pool_block_bytes(ex, d), 4080);
    assert_int_equal(ex_pool_block_bytes(ex, e), 4096);
    assert_int_equal((uintptr_t)e & 4095, 0);
    ExFreePoolWithTag(a, 'tseT');
    ExFreePoolWithTag(b, 'tseT');
    ExFreePoolWithTag(c, 'tseT');
    ExFreePool(d);
    ExFreePool(e);
    assert_int_equal(ex_pool_block_bytes(ex, a), 0);
}

static void test_page_rounding(void **state)
{
    (void)state;
    run("standard", rounding_body, NULL);
}

/* ---- contents, tracking, physical addresses ------------------------------------- */

static void contents_body(void *arg)
{
    (void)arg;
    struct sys *sys = sys_get();
    uint8_t *z = ExAllocatePool2(POOL_FLAG_NON_PAGED, 300, 'oreZ');
    assert_non_null(z);
    for (int i = 0; i < 300; i++)
        assert_int_equal(z[i], 0);
    memset(z, 0x11, 300);
    ExFreePoolWithTag(z, 'oreZ');
    /* Reused at once from the cache: ExAllocatePool2 zeroes again, the
     * uninitialized kinds show the seeded fill. */
    z = ExAllocatePool2(POOL_FLAG_NON_PAGED, 300, 'oreZ');
    for (int i = 0; i < 300; i++)
        assert_int_equal(z[i], 0);
    uint8_t *u = ExAllocatePoolWithTag(NonPagedPoolNx, 300, 'liFx');
    assert_int_equal(u[0], sys->ex.fill);
    assert_int_not_equal(u[0], 0);
    /* the same tag and size again: the fast path's block, filled too */
    memset(u, 0x22, 300);
    ExFreePoolWithTag(u, 'liFx');
    u = ExAllocatePoolWithTag(NonPagedPoolNx, 300, 'liFx');
    for (int i = 0; i < 300; i++)
        assert_int_equal(u[i], sys->ex.fill);
    uint8_t *uz = ExAllocatePoolZero(PagedPool, 50, 'liFx');
    for (int i = 0; i < 50; i++)
        assert_int_equal(uz[i], 0);
    ExFreePool(z);
    ExFreePool(u);
    ExFreePool(uz);
}

static void test_zeroing_and_fill(void **state)
{
    (void)state;
    run("standard", contents_body, NULL);
}

static void tracking_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    void *p[10];
    for (int i = 0; i < 10; i++)
        p[i] = ExAllocatePoolWithTag(PagedPool, 100, 'kcrT');
    void *big = ExAllocatePoolWithTag(NonPagedPoolNx, 10000, 'kcrT');
    struct ex_tag_stat s = ex_pool_tag_stat(ex, 'kcrT', ex_kind_paged);
    assert_int_equal(s.allocs, 10);
    assert_int_equal(s.frees, 0);
    assert_int_equal(s.bytes, 10 * 128); /* 100 -> 7 units of 16 + header = 128 */
    s = ex_pool_tag_stat(ex, 'kcrT', ex_kind_nx);
    assert_int_equal(s.bytes, 12288);
    for (int i = 0; i < 10; i++)
        ExFreePoolWithTag(p[i], 'kcrT');
    ExFreePoolWithTag(big, 'kcrT');
    s = ex_pool_tag_stat(ex, 'kcrT', -1);
    assert_int_equal(s.allocs, 11);
    assert_int_equal(s.frees, 11);
    assert_int_equal(s.bytes, 0);
    /* ExAllocatePool's tag is "None" */
    void *n = ExAllocatePool(NonPagedPoolNx, 8);
    assert_int_equal(ex_pool_tag_stat(ex, 'enoN', -1).allocs, 1);
    ExFreePool(n);
    char buf[4096] = {0};
    FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
    ex_pool_usage_print(ex, f);
    fclose(f);
    assert_non_null(strstr(buf, "Trck"));
    assert_non_null(strstr(buf, "Allocs"));
}

static void test_tag_tracking(void **state)
{
    (void)state;
    run("none", tracking_body, NULL);
}

static void physical_body(void *arg)
{
    (void)arg;
    struct sys *sys = sys_get();
    uint8_t *p = ExAllocatePoolWithTag(PagedPool, 200, 'syhP');
    uint8_t *q = ExAllocatePoolWithTag(NonPagedPoolNx, 3 * 4096, 'syhP');
    PHYSICAL_ADDRESS pa = MmGetPhysicalAddress(p);
    assert_true(pa.QuadPart != 0);
    assert_int_equal(pa.QuadPart & 4095, (uintptr_t)p & 4095);
    /* the same bytes through the machine's direct map */
    p[5] = 0x77;
    assert_int_equal(*(uint8_t *)machine_pa_ptr(&sys->machine, (uint64_t)pa.QuadPart + 5), 0x77);
    assert_true(MmGetPhysicalAddress(q + 8192).QuadPart != 0);
    /* paged pool is pageable in its PTE; nonpaged is not */
    assert_true(*mm_pte_of(&sys->mm, p) & mm_pte_pageable);
    assert_false(*mm_pte_of(&sys->mm, q) & mm_pte_pageable);
    ExFreePool(p);
    ExFreePool(q);
}

static void test_physical_address(void **state)
{
    (void)state;
    run("standard", physical_body, NULL);
}

/* ---- ExAllocatePool2 / 3, quota, raising ---------------------------------------- */

static void pool2_body(void *arg)
{
    (void)arg;
    assert_null(ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, 10, 'looP'));
    assert_null(ExAllocatePool2(0, 10, 'looP'));
    assert_null(ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_RESERVED1, 10, 'looP'));
    assert_null(ExAllocatePool2(POOL_FLAG_NON_PAGED, 10, 0));
    /* unknown optional (high) bits are ignored */
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED | 0x4000000000ULL, 10, 'looP');
    assert_non_null(p);
    ExFreePoolWithTag(p, 'looP');
    p = ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_CACHE_ALIGNED, 10, 'looP');
    assert_int_equal((uintptr_t)p & 63, 0);
    ExFreePool(p);
    POOL_EXTENDED_PARAMETER x = {0};
    x.Type = PoolExtendedParameterPriority;
    x.Priority = HighPoolPriority;
    p = ExAllocatePool3(POOL_FLAG_NON_PAGED_EXECUTE, 64, 'looP', &x, 1);
    assert_non_null(p);
    ExFreePool2(p, 'looP', NULL, 0);
    x.Type = PoolExtendedParameterSecurePool;
    assert_null(ExAllocatePool3(POOL_FLAG_NON_PAGED, 64, 'looP', &x, 1));
    /* quota: fails instead of raising when told to */
    assert_null(ExAllocatePoolWithQuotaTag(NonPagedPoolNx | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE,
                                           (SIZE_T)1 << 50, 'looP'));
    p = ExAllocatePoolWithQuota(PagedPool, 64);
    assert_non_null(p);
    ExFreePool(p);
    assert_null(ExAllocatePoolWithTag(NonPagedPoolNx, (SIZE_T)1 << 50, 'looP'));
}

static void test_pool2_pool3_quota(void **state)
{
    (void)state;
    run("standard", pool2_body, NULL);
}

static void raise_body(void *arg)
{
    (void)arg;
    ExAllocatePoolWithTag(NonPagedPoolNx | POOL_RAISE_IF_ALLOCATION_FAILURE, (SIZE_T)1 << 50,
                          'looP');
}

static void quota_raise_body(void *arg)
{
    (void)arg;
    ExAllocatePoolWithQuotaTag(NonPagedPoolNx, (SIZE_T)1 << 50, 'looP');
}

static void test_raise_on_failure(void **state)
{
    (void)state;
    void (*bodies[])(void *) = {raise_body, quota_raise_body};
    for (int i = 0; i < 2; i++) {
        wdmsim *sim = boot("standard");
        assert_int_equal(wdmsim_call(sim, bodies[i], NULL), WDMSIM_STOPPED);
        const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
        assert_int_equal(bc->code, 0x1E);
        assert_int_equal(bc->parameters[0], 0xC000009A);
        wdmsim_shutdown(sim);
    }
}

/* ---- special pool from the host (POOL_FLAG_SPECIAL_POOL) ------------------------- */

static void special_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    uint8_t *p = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_SPECIAL_POOL, 100, 'cepS');
    assert_non_null(p);
    assert_true(ex_special_owns(ex, p));
    /* verify end: the block ends as near the page end as 16 bytes allow */
    assert_int_equal(((uintptr_t)p + 112) & 4095, 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(p[i], 0);
    assert_true(MmGetPhysicalAddress(p).QuadPart != 0);
    ExFreePoolWithTag(p, 'cepS');
    assert_false(MmIsAddressValid(p));
}

static void test_special_pool_placement(void **state)
{
    (void)state;
    run("standard,special-pool", special_body, NULL);
}

/* ---- many blocks: coalescing gives pages back ------------------------------------- */

static void churn_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    enum { n = 5000 };
    static void *p[n];
    uint64_t before = ex_pool_pages(ex);
    uint32_t x = 12345;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < n; i++) {
            x = x * 1103515245 + 12345;
            p[i] = ExAllocatePoolWithTag(i & 1 ? PagedPool : NonPagedPoolNx, 16 + (x >> 8) % 2000,
                                         'nruC');
            assert_non_null(p[i]);
        }
        for (int i = 0; i < n; i++)
            ExFreePoolWithTag(p[(i * 7919) % n], 'nruC');
    }
    assert_int_equal(ex_pool_tag_stat(ex, 'nruC', -1).bytes, 0);
    /* Blocks parked in the processor caches (about 8 KiB per size) pin
     * their pages until a trim; then only a few empty pages stay. */
    ex_pool_trim(ex);
    assert_true(ex_pool_pages(ex) - before <= 2 * 16 + 1);
}

static void test_churn_returns_pages(void **state)
{
    (void)state;
    run("none", churn_body, NULL);
}

/* ---- the depot and host threads ------------------------------------------------- */

/* Batches of one size go through the depot and come back without new
 * pages; the counters stay exact; a trim gives the pages back. */
static void depot_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    enum { n = 3000 };
    static void *p[n];
    uint64_t before = ex_pool_pages(ex), after_first = 0;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < n; i++)
            assert_non_null(p[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 64, 'topD'));
        for (int i = 0; i < n; i++)
            ExFreePoolWithTag(p[i], 'topD');
        if (round == 0)
            after_first = ex_pool_pages(ex);
        else
            assert_int_equal(ex_pool_pages(ex), after_first);
    }
    struct ex_tag_stat s = ex_pool_tag_stat(ex, 'topD', -1);
    assert_int_equal(s.allocs, 4 * n);
    assert_int_equal(s.frees, 4 * n);
    assert_int_equal(s.bytes, 0);
    ex_pool_trim(ex);
    assert_true(ex_pool_pages(ex) - before <= 16 + 1);
}

static void test_depot_batches(void **state)
{
    (void)state;
    run("none", depot_body, NULL);
}

/* Two host threads on one pool (ex_pool_thread_attach): one allocates, the
 * other frees, through a ring; the blocks travel between the two caches
 * through the depot and the free lists. Regression: a block handed out by
 * a refill was briefly "free" outside the heap lock. */
enum { ring_slots = 1024, ring_blocks = 200000 };
struct ring {
    struct sys *sys;
    void *slot[ring_slots];
    uint64_t head, tail;
    int bad;
};

static void *ring_producer(void *arg)
{
    struct ring *r = arg;
    sys_current = r->sys;
    ex_pool_thread_attach(&r->sys->ex, 0);
    uint32_t x = 99;
    for (uint64_t i = 0; i < ring_blocks; i++) {
        while (i - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >= ring_slots)
            __builtin_ia32_pause();
        x = x * 1103515245 + 12345;
        uint8_t *p = ExAllocatePoolWithTag(NonPagedPoolNx, 16 + (x >> 8) % 1009, 'gniR');
        if (!p) {
            r->bad = 1;
            p = NULL;
        } else {
            p[0] = (uint8_t)i;
        }
        r->slot[i % ring_slots] = p;
        __atomic_store_n(&r->head, i + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void *ring_consumer(void *arg)
{
    struct ring *r = arg;
    sys_current = r->sys;
    ex_pool_thread_attach(&r->sys->ex, 1);
    for (uint64_t i = 0; i < ring_blocks; i++) {
        while (__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) <= i)
            __builtin_ia32_pause();
        uint8_t *p = r->slot[i % ring_slots];
        if (p) {
            if (p[0] != (uint8_t)i)
                r->bad = 1;
            ExFreePoolWithTag(p, 'gniR');
        }
        __atomic_store_n(&r->tail, i + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void test_cross_thread_free(void **state)
{
    (void)state;
    wdmsim *sim = boot("none");
    static struct ring r;
    memset(&r, 0, sizeof(r));
    r.sys = (struct sys *)sim; /* struct wdmsim begins with its struct sys */
    pthread_t t[2];
    pthread_create(&t[0], NULL, ring_producer, &r);
    pthread_create(&t[1], NULL, ring_consumer, &r);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    assert_int_equal(r.bad, 0);
    struct ex_tag_stat s = ex_pool_tag_stat(&r.sys->ex, 'gniR', -1);
    assert_int_equal(s.allocs, ring_blocks);
    assert_int_equal(s.frees, ring_blocks);
    assert_int_equal(s.bytes, 0);
    ex_pool_trim(&r.sys->ex);
    wdmsim_shutdown(sim);
}

/* Each host slot has its own heaps (ex.h: struct ex_heap). Thread A
 * allocates, thread B frees A's blocks among its own, so B's cache lists
 * and flushed batches mix both heaps' pages; with that much freed the
 * depots fill and flushes give blocks back to the free lists, A's through
 * A's remote stack while A waits. A then allocates again (its refill
 * empties the stack) and frees all. Nothing may be lost: counters exact,
 * and after a trim every page of every heap wholly free. */
enum { remote_blocks = 3000 };
struct remote {
    struct sys *sys;
    void *a[remote_blocks];
    int phase, bad;
};

static void *remote_a(void *arg)
{
    struct remote *r = arg;
    sys_current = r->sys;
    ex_pool_thread_attach(&r->sys->ex, 0);
    for (int i = 0; i < remote_blocks; i++) {
        if (r->phase == 1 && !(r->a[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'tmeR')))
            r->bad = 1;
        if (r->phase == 2 && r->a[i]) {
            ExFreePoolWithTag(r->a[i], 'tmeR');
            void *again = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'tmeR');
            if (!again)
                r->bad = 1;
            else
                ExFreePoolWithTag(again, 'tmeR');
        }
    }
    return NULL;
}

static void *remote_b(void *arg)
{
    struct remote *r = arg;
    sys_current = r->sys;
    ex_pool_thread_attach(&r->sys->ex, 1);
    static void *own[remote_blocks];
    for (int i = 0; i < remote_blocks; i++)
        if (!(own[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'tmeR')))
            r->bad = 1;
    for (int i = 0; i < remote_blocks; i++) {
        ExFreePoolWithTag(r->a[i], 'tmeR');
        ExFreePoolWithTag(own[i], 'tmeR');
    }
    /* A's blocks reuse in phase 2: hand A fresh ones */
    for (int i = 0; i < remote_blocks; i++)
        r->a[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'tmeR');
    return NULL;
}

static void remote_run(struct remote *r, void *(*fn)(void *))
{
    pthread_t t;
    pthread_create(&t, NULL, fn, r);
    pthread_join(t, NULL);
}

static void test_remote_free(void **state)
{
    (void)state;
    wdmsim *sim = boot("none");
    static struct remote r;
    memset(&r, 0, sizeof(r));
    r.sys = (struct sys *)sim;
    struct ex *ex = &r.sys->ex;
    r.phase = 1;
    remote_run(&r, remote_a);
    remote_run(&r, remote_b);
    /* A's heap got blocks back from B while A was away */
    assert_non_null(ex->heaps[1][ex_kind_nx].remote);
    r.phase = 2;
    remote_run(&r, remote_a);
    assert_int_equal(r.bad, 0);
    struct ex_tag_stat s = ex_pool_tag_stat(ex, 'tmeR', -1);
    assert_int_equal(s.allocs, 4 * remote_blocks);
    assert_int_equal(s.frees, s.allocs);
    assert_int_equal(s.bytes, 0);
    ex_pool_trim(ex);
    for (int i = 0; i < ex_heaps; i++)
        for (int k = 0; k < ex_kind_count; k++) {
            assert_null(ex->heaps[i][k].remote);
            assert_int_equal(ex->heaps[i][k].pages, ex->heaps[i][k].nempty);
        }
    wdmsim_shutdown(sim);
}

/* Four host threads, each on its own slot (heap), allocate random sizes
 * and pass most blocks to the next thread, which checks and frees them
 * among frees of its own: every heap gets blocks of every other heap's
 * pages, depots fill with mixed batches and are consolidated while other
 * threads push onto the owners' remote stacks, and the threads start
 * carving at different times (ex->carvers goes from one bit to several
 * while blocks travel). A block handed out twice shows as a stamp
 * overwritten; a block lost, as a page not wholly free after the trim. */
enum { mesh_threads = 4, mesh_ring = 256, mesh_ops = 60000, mesh_live = 300 };
struct mesh_msg {
    uint64_t *p, id;
};
struct mesh {
    struct sys *sys;
    struct mesh_box {
        struct mesh_msg m[mesh_ring];
        _Alignas(64) uint64_t head;
        _Alignas(64) uint64_t tail;
    } box[mesh_threads];
    int done, bad;
};
struct mesh_arg {
    struct mesh *m;
    unsigned slot;
};

static uint64_t *mesh_alloc(uint64_t id, uint32_t *x)
{
    *x = *x * 1103515245 + 12345;
    size_t n = 16 + (*x >> 8) % ((*x >> 28) < 2 ? 3000 : 400);
    uint64_t *p = ExAllocatePoolWithTag(NonPagedPoolNx, n, 'hseM');
    if (p)
        p[0] = p[1] = id;
    return p;
}

static void mesh_free(struct mesh *m, uint64_t *p, uint64_t id)
{
    if (p[0] != id || p[1] != id)
        __atomic_store_n(&m->bad, 1, __ATOMIC_RELAXED);
    ExFreePoolWithTag(p, 'hseM');
}

static void mesh_drain(struct mesh *m, struct mesh_box *b)
{
    uint64_t t = b->tail, h = __atomic_load_n(&b->head, __ATOMIC_ACQUIRE);
    for (; t != h; t++)
        mesh_free(m, b->m[t % mesh_ring].p, b->m[t % mesh_ring].id);
    __atomic_store_n(&b->tail, t, __ATOMIC_RELEASE);
}

static void *mesh_worker(void *arg)
{
    struct mesh_arg *a = arg;
    struct mesh *m = a->m;
    sys_current = m->sys;
    ex_pool_thread_attach(&m->sys->ex, a->slot);
    struct mesh_box *in = &m->box[a->slot], *out = &m->box[(a->slot + 1) % mesh_threads];
    uint64_t *live[mesh_live] = {0}, ids[mesh_live] = {0};
    uint32_t x = 7 + a->slot;
    for (uint64_t i = 0; i < mesh_ops; i++) {
        uint64_t id = ((uint64_t)a->slot << 48) | (i + 1);
        uint64_t *p = mesh_alloc(id, &x);
        if (!p) {
            __atomic_store_n(&m->bad, 1, __ATOMIC_RELAXED);
            continue;
        }
        unsigned k = (x >> 4) % mesh_live;
        if (live[k])
            mesh_free(m, live[k], ids[k]);
        live[k] = NULL;
        uint64_t h = out->head;
        if ((x >> 12) % 4 && h - __atomic_load_n(&out->tail, __ATOMIC_ACQUIRE) < mesh_ring) {
            out->m[h % mesh_ring] = (struct mesh_msg){p, id};
            __atomic_store_n(&out->head, h + 1, __ATOMIC_RELEASE);
        } else {
            live[k] = p;
            ids[k] = id;
        }
        mesh_drain(m, in);
    }
    for (unsigned k = 0; k < mesh_live; k++)
        if (live[k])
            mesh_free(m, live[k], ids[k]);
    __atomic_add_fetch(&m->done, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&m->done, __ATOMIC_ACQUIRE) < mesh_threads)
        mesh_drain(m, in);
    mesh_drain(m, in);
    return NULL;
}

static void test_heap_mesh(void **state)
{
    (void)state;
    wdmsim *sim = boot("none");
    static struct mesh m;
    memset(&m, 0, sizeof(m));
    m.sys = (struct sys *)sim;
    struct ex *ex = &m.sys->ex;
    pthread_t t[mesh_threads];
    struct mesh_arg a[mesh_threads];
    for (unsigned i = 0; i < mesh_threads; i++) {
        a[i] = (struct mesh_arg){&m, i};
        pthread_create(&t[i], NULL, mesh_worker, &a[i]);
    }
    for (unsigned i = 0; i < mesh_threads; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(m.bad, 0);
    struct ex_tag_stat s = ex_pool_tag_stat(ex, 'hseM', -1);
    assert_int_equal(s.allocs, (uint64_t)mesh_threads * mesh_ops);
    assert_int_equal(s.frees, s.allocs);
    assert_int_equal(s.bytes, 0);
    ex_pool_trim(ex);
    for (int i = 0; i < ex_heaps; i++)
        for (int k = 0; k < ex_kind_count; k++) {
            assert_null(ex->heaps[i][k].remote);
            assert_int_equal(ex->heaps[i][k].pages, ex->heaps[i][k].nempty);
        }
    wdmsim_shutdown(sim);
}

/* Several heaps carve pages at once (each host slot its own): the range
 * of pages the leak listing walks (ex->pm_lo, pm_hi) must still take in
 * every one. Two carves racing to raise pm_hi with plain stores could
 * lose one's pages; the window is a few instructions, so this rarely
 * fails without the fix, but ThreadSanitizer reports the race here. */
enum { carve_threads = 4, carve_pages = 400 };
struct carve {
    struct sys *sys;
    void *p[carve_threads][carve_pages];
    int go;
};
struct carve_arg {
    struct carve *c;
    unsigned slot;
};

static void *carve_worker(void *arg)
{
    struct carve_arg *a = arg;
    sys_current = a->c->sys;
    ex_pool_thread_attach(&a->c->sys->ex, a->slot);
    __atomic_add_fetch(&a->c->go, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&a->c->go, __ATOMIC_ACQUIRE) < carve_threads)
        __builtin_ia32_pause();
    for (unsigned i = 0; i < carve_pages; i++)
        a->c->p[a->slot][i] = ExAllocatePoolWithTag(NonPagedPoolNx, 4000, 'vraC');
    return NULL;
}

static void carve_count(void *ctx, const struct ex_hdr *h, void *p)
{
    (void)p;
    if (h->tag == 'vraC')
        ++*(unsigned *)ctx;
}

static void test_heaps_carve_at_once(void **state)
{
    (void)state;
    wdmsim *sim = boot("none");
    static struct carve c;
    memset(&c, 0, sizeof(c));
    c.sys = (struct sys *)sim;
    struct ex *ex = &c.sys->ex;
    pthread_t t[carve_threads];
    struct carve_arg a[carve_threads];
    for (unsigned i = 0; i < carve_threads; i++) {
        a[i] = (struct carve_arg){&c, i};
        pthread_create(&t[i], NULL, carve_worker, &a[i]);
    }
    for (unsigned i = 0; i < carve_threads; i++)
        pthread_join(t[i], NULL);
    unsigned n = 0;
    ex_small_foreach(ex, carve_count, &n);
    assert_int_equal(n, carve_threads * carve_pages);
    sys_current = c.sys;
    for (unsigned i = 0; i < carve_threads; i++)
        for (unsigned k = 0; k < carve_pages; k++)
            ExFreePoolWithTag(c.p[i][k], 'vraC');
    wdmsim_shutdown(sim);
}

/* ---- frees checked against the page record (verifier off) -------------------- */

struct wrong_free {
    ULONG first, second, freed_with; /* tags of two neighbours; the tag the second is freed with */
};

static void wrong_free_body(void *arg)
{
    struct wrong_free *w = arg;
    struct ex *ex = &sys_get()->ex;
    uint8_t *a = ExAllocatePoolWithTag(NonPagedPoolNx, 48, w->first);
    /* the test is about one page: take blocks until one shares a's page */
    void *other[300];
    int n = 0;
    uint8_t *b = NULL;
    while (n < 300) {
        b = ExAllocatePoolWithTag(NonPagedPoolNx, 48, w->second);
        if (((uintptr_t)a ^ (uintptr_t)b) < ex->page_size)
            break;
        other[n++] = b;
    }
    assert_true(n < 300);
    while (n)
        ExFreePoolWithTag(other[--n], w->second);
    /* a correct free on the same page goes through (no stop) */
    ExFreePoolWithTag(a, w->first);
    ExFreePoolWithTag(b, w->freed_with);
}

static void expect_free_stop(ULONG first, ULONG second, ULONG freed_with, uint32_t code,
                             uint64_t p1)
{
    struct wrong_free w = {first, second, freed_with};
    wdmsim *sim = boot("none");
    assert_int_equal(wdmsim_call(sim, wrong_free_body, &w), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    assert_int_equal(bc->code, code);
    assert_int_equal(bc->parameters[0], p1);
    wdmsim_shutdown(sim);
}

/* The fast free trusts the page's shared tag only while every live block of
 * the page carries it: with two tags on the page it reads the header. */
static void test_free_tag_from_page_record(void **state)
{
    (void)state;
    expect_free_stop('AAAA', 'AAAA', 'BBBB', 0xC2, 0x0A); /* one tag: the record's */
    expect_free_stop('AAAA', 'BBBB', 'AAAA', 0xC2, 0x0A); /* two tags: the header's */
    expect_free_stop('BBBB', 'AAAA', 'BBBB', 0xC2, 0x0A);
}

/* A block freed twice in a row by the fast path, which did not read its
 * header: the page record says it is not live. */
static void double_parked_body(void *arg)
{
    (void)arg;
    void *p = ExAllocatePoolWithTag(NonPagedPoolNx, 200, 'lbuD');
    ExFreePoolWithTag(p, 'lbuD');
    ExFreePoolWithTag(p, 'lbuD');
}

static void test_double_free_parked(void **state)
{
    (void)state;
    wdmsim *sim = boot("none");
    assert_int_equal(wdmsim_call(sim, double_parked_body, NULL), WDMSIM_STOPPED);
    assert_int_equal(wdmsim_get_bugcheck(sim)->code, 0xC4);
    assert_int_equal(wdmsim_get_bugcheck(sim)->parameters[0], 0x13);
    wdmsim_shutdown(sim);
}

/* Counters and reuse stay exact through many frees and reallocations of
 * blocks of many sizes. */
static void batches_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    enum { n = 163 };
    void *p[n];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < n; i++)
            p[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 16 + 24 * (size_t)i, 'htaB');
        for (int i = 0; i < n; i++)
            assert_int_equal(ex_pool_block_bytes(ex, p[i]) >= 16 + 24 * (uint64_t)i, 1);
        for (int i = 0; i < n; i++)
            ExFreePoolWithTag(p[i], 'htaB');
        for (int i = 0; i < n; i++)
            assert_int_equal(ex_pool_block_bytes(ex, p[i]), 0); /* parked is not live */
    }
    struct ex_tag_stat s = ex_pool_tag_stat(ex, 'htaB', -1);
    assert_int_equal(s.allocs, 3 * n);
    assert_int_equal(s.frees, 3 * n);
    assert_int_equal(s.bytes, 0);
}

static void test_reuse_counts(void **state)
{
    (void)state;
    run("none", batches_body, NULL);
}

/* A declared single host thread keeps the page records plain; a second
 * distinct slot attaching turns atomic updates back on. */
static void test_host_threads_declared(void **state)
{
    (void)state;
    wdmsim *sim = boot("none");
    struct ex *ex = &((struct sys *)sim)->ex; /* struct wdmsim begins with its struct sys */
    ex_pool_host_threads(ex, 1);
    ex_pool_thread_attach(ex, 0);
    assert_false(ex->mt);
    ex_pool_thread_attach(ex, 0);
    assert_false(ex->mt);
    ex_pool_thread_attach(ex, 1);
    assert_true(ex->mt);
    ex_pool_host_threads(ex, 2);
    assert_true(ex->mt);
    wdmsim_shutdown(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_every_type),
        cmocka_unit_test(test_page_rounding),
        cmocka_unit_test(test_zeroing_and_fill),
        cmocka_unit_test(test_tag_tracking),
        cmocka_unit_test(test_physical_address),
        cmocka_unit_test(test_pool2_pool3_quota),
        cmocka_unit_test(test_raise_on_failure),
        cmocka_unit_test(test_special_pool_placement),
        cmocka_unit_test(test_churn_returns_pages),
        cmocka_unit_test(test_depot_batches),
        cmocka_unit_test(test_cross_thread_free),
        cmocka_unit_test(test_remote_free),
        cmocka_unit_test(test_heap_mesh),
        cmocka_unit_test(test_heaps_carve_at_once),
        cmocka_unit_test(test_host_threads_declared),
        cmocka_unit_test(test_free_tag_from_page_record),
        cmocka_unit_test(test_double_free_parked),
        cmocka_unit_test(test_reuse_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
