/*
 * tests/ex/test_pool_free.c - the pool's free path given bad pointers and
 * damaged headers.
 *
 * Spec: spec/memory.md 4, spec/verifier.md 1 (pool.double-free,
 * pool.free-mid-block, pool.free-bad-address, pool.free-wrong-tag,
 * pool.header-corrupt). Each case stops with the exact code and P1 under
 * "none" (frees checked against the page record, a parked block's header
 * read when it is handed out again) and "standard" (every free reads its
 * header) alike: double frees of a block just parked and of one under
 * others, mid-block pointers into a live and into a freed block, a page's first units (whose
 * "header" would be the page header or in the page before), ExFreePool of a protected block,
 * headers destroyed and headers rewritten with their cookie left intact (found at the free, or when
 * the block's neighbours are coalesced), a stale pad header of a freed cache-aligned block. Then
 * what must not stop: the host reading counters while a parked block's header is corrupt, the
 * page record's count of other tags after a header whose tag was rewritten, and the record's
 * list and bitmap forms (and the switches between them) through frees in every order.
 */
/* WDK tags are multi-character constants. */
#pragma GCC diagnostic ignored "-Wmultichar"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "ex/pool_impl.h"
#include "support/fixture.h"
#include "sys.h"

static wdmsim *boot(const char *verifier)
{
    struct wdmsim_config cfg = {.seed = 5, .verifier = verifier};
    wdmsim *sim;
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    return sim;
}

static const char *const modes[] = {"none", "standard"};

/* body(arg) must stop the machine with code / p1, under both settings. */
static void expect_stop(void (*body)(void *), void *arg, uint32_t code, uint64_t p1)
{
    for (int m = 0; m < 2; m++)
        expect_call_stop(NULL, modes[m], body, arg, code, p1);
}

static void run_ok(const char *verifier, void (*body)(void *), void *arg)
{
    wdmsim *sim = boot(verifier);
    int rc = wdmsim_call(sim, body, arg);
    if (rc != WDMSIM_OK)
        wdmsim_report_print(sim, stderr);
    assert_int_equal(rc, WDMSIM_OK);
    wdmsim_shutdown(sim);
}

/* Other blocks come and go: a block freed before is no longer the newest
 * on its cache list. Blocks of 3000 bytes, one per page, so that their
 * pages have one tag (frees on a page with several take the full path). */
static void churn(void)
{
    enum { n = 64 };
    void *p[n];
    for (int i = 0; i < n; i++)
        p[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 3000, 'nruC');
    for (int i = 0; i < n; i++)
        ExFreePoolWithTag(p[i], 'nruC');
}

/* The next allocations of n bytes: a block of that size freed last is
 * handed out again, and its header checked. */
static void reuse(SIZE_T n, ULONG tag)
{
    for (int i = 0; i < 8; i++)
        ExAllocatePoolWithTag(NonPagedPoolNx, n, tag);
}

/* Two blocks of n bytes, b right after a in one page. */
static void neighbours(SIZE_T n, ULONG tag, uint8_t **a, uint8_t **b)
{
    uint8_t *q[64];
    for (int i = 0; i < 64; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, n, tag);
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 64; j++)
            if (q[j] == q[i] + ex_small_occupied((struct ex_hdr *)q[i] - 1)) {
                *a = q[i];
                *b = q[j];
                return;
            }
    fail();
}

/* ---- double free and mid-block pointers --------------------------------------- */

static void double_free_body(void *arg)
{
    bool parked = arg != NULL;
    uint8_t *p = ExAllocatePoolWithTag(NonPagedPoolNx, 200, 'lbuD');
    ExFreePoolWithTag(p, 'lbuD');
    if (parked)
        churn();
    ExFreePoolWithTag(p, 'lbuD');
}

static void test_double_free(void **state)
{
    (void)state;
    expect_stop(double_free_body, NULL, 0xC4, 0x13);      /* newest on its list */
    expect_stop(double_free_body, (void *)1, 0xC4, 0x13); /* under others */
}

struct mid {
    int offset;
    bool freed; /* the block was freed first */
};

static void mid_block_body(void *arg)
{
    const struct mid *m = arg;
    uint8_t *p = ExAllocatePoolWithTag(NonPagedPoolNx, 200, 'diMM');
    if (m->freed)
        ExFreePoolWithTag(p, 'diMM');
    ExFreePoolWithTag(p + m->offset, 'diMM');
}

static void test_mid_block(void **state)
{
    (void)state;
    static const struct mid live32 = {32, false}, live8 = {8, false}, freed32 = {32, true},
                            freed8 = {8, true};
    expect_stop(mid_block_body, (void *)&live32, 0xC2, 0x41286);
    expect_stop(mid_block_body, (void *)&live8, 0xC2, 0x41286);
    /* inside a freed block (parked in the cache): a double free */
    expect_stop(mid_block_body, (void *)&freed32, 0xC4, 0x13);
    expect_stop(mid_block_body, (void *)&freed8, 0xC4, 0x13);
}

/* ---- a page's first units ------------------------------------------------------ */

/* offset 0: a small page's start, with the page before it not mapped
 * (found after big blocks were freed around new small pages); 16: its
 * page header's body. Neither may read the 16 bytes before p. */
static void page_start_body(void *arg)
{
    unsigned offset = (unsigned)(uintptr_t)arg;
    struct sys *sys = sys_get();
    struct ex *ex = &sys->ex;
    for (int k = 0; k < 50; k++) {
        void *big = ExAllocatePoolWithTag(NonPagedPoolNx, 40000, 'giBt');
        for (int i = 0; i < 300; i++)
            ExAllocatePoolWithTag(NonPagedPoolNx, 2000, 'egaP');
        ExFreePool(big);
    }
    for (uint64_t idx = ex->pm_lo + 1; idx < ex->pm_hi; idx++) {
        uint8_t *page = sys->mm.system.base + (idx << ex->page_shift);
        if (ex_pm_get(ex, idx) == ex_pm_small + ex_kind_nx && !MmIsAddressValid(page - 1)) {
            ExFreePool(page + offset);
            return;
        }
    }
    fail_msg("no small page after an unmapped one");
}

static void test_page_start(void **state)
{
    (void)state;
    expect_stop(page_start_body, (void *)0, 0xC4, 0x10);
    /* p = the page header's end: inside the first block (its header) */
    expect_stop(page_start_body, (void *)16, 0xC2, 0x41286);
}

/* ---- tags ----------------------------------------------------------------------- */

static void protected_body(void *arg)
{
    (void)arg;
    void *p = ExAllocatePoolWithTag(NonPagedPoolNx, 40, 'torP' | PROTECTED_POOL);
    ExFreePoolWithTag(p, 'torP' | PROTECTED_POOL);
    p = ExAllocatePoolWithTag(NonPagedPoolNx, 40, 'torP' | PROTECTED_POOL);
    ExFreePool(p); /* a protected block needs its tag */
}

static void test_protected_tag(void **state)
{
    (void)state;
    expect_stop(protected_body, NULL, 0xC2, 0x0A);
}

/* ---- damaged headers ------------------------------------------------------------- */

enum damage {
    damage_cookie,    /* a 16-byte overrun: the whole header */
    damage_12,        /* a 12-byte overrun of 0x80: busy, kind 0, owner 0x8080 */
    damage_kind,      /* type says paged in a NonPagedPoolNx page */
    damage_prev_zero, /* a one-byte overrun writing a string's NUL: PreviousSize 0 */
    damage_size,      /* BlockSize past the page end */
    damage_owner,     /* the owner field */
};

static void damage_body(void *arg)
{
    enum damage d = (enum damage)(uintptr_t)arg;
    uint8_t *a, *b;
    neighbours(48, 'maDS', &a, &b);
    struct ex_hdr *h = (struct ex_hdr *)b - 1;
    switch (d) {
    case damage_cookie:
        memset(a + 48, 0x41, 16);
        break;
    case damage_12:
        memset(a + 48, 0x80, 12);
        break;
    case damage_kind:
        h->type = (uint8_t)(ex_hdr_busy | ex_kind_paged);
        break;
    case damage_prev_zero:
        a[48] = 0;
        break;
    case damage_size:
        h->size = 0xFF;
        break;
    case damage_owner:
        h->owner = 0xFFFF;
        break;
    }
    ExFreePool(b);
    reuse(48, 'maDS');
}

static void test_damaged_header(void **state)
{
    (void)state;
    for (enum damage d = damage_cookie; d <= damage_owner; d++) {
        print_message("damage %d\n", (int)d);
        expect_stop(damage_body, (void *)(uintptr_t)d, 0x19, 0x20);
    }
}

/* A one-byte overrun that leaves PreviousSize in range (2 units, not 4):
 * the free passes; when the block is given back to the heap, coalescing
 * must not take bytes of the live block before it for a free block. */
static void prev_in_range_body(void *arg)
{
    (void)arg;
    uint8_t *a, *b;
    neighbours(48, 'verP', &a, &b);
    memset(a, 0, 48);
    a[48] = 2;
    ExFreePoolWithTag(b, 'verP');
    ex_pool_trim(&sys_get()->ex);
    for (int i = 0; i < 48; i++)
        assert_int_equal(a[i], 0);
}

static void test_prev_in_range(void **state)
{
    (void)state;
    expect_stop(prev_in_range_body, NULL, 0x19, 0x20);
}

/* A cache-aligned block whose pad header is its body's first unit, freed
 * onto an empty cache list (the link the cache writes over the pad is
 * NULL), then its memory handed out as a plain block: a free of the old
 * address is now a mid-block free of the new block. The pad's cookie must
 * not survive the free (the plain block's owner need not overwrite it). */
static void stale_pad_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    struct ex_cache_kind *ck = &ex_cache_get(ex)->kind[ex_kind_nx];
    /* 9 units: the blocks of a fresh page start at every offset mod 64 */
    enum { n = 80 };
    unsigned u = ex->unit_class[1 + n / ex_unit + 3];
    uint8_t *x = NULL;
    for (int i = 0; i < 4096 && !x; i++) {
        uint8_t *q = ExAllocatePoolWithTag(NonPagedPoolNxCacheAligned, n, 'daPS');
        struct ex_hdr *pad = (struct ex_hdr *)q - 1;
        if ((pad->type & ex_hdr_pad) && hdr_prev(pad) == 1 && ck->list[u].count == 0)
            x = q;
    }
    assert_non_null(x);
    ExFreePoolWithTag(x, 'daPS');
    assert_int_equal(ex_pool_block_bytes(ex, x), 0);
    uint8_t *y = ExAllocatePoolWithTag(NonPagedPoolNx, n + 48, 'daPS');
    assert_ptr_equal(y + ex_unit, x);
    assert_int_equal(ex_pool_block_bytes(ex, x), 0);
    ExFreePoolWithTag(x, 'daPS');
}

static void test_stale_pad(void **state)
{
    (void)state;
    expect_stop(stale_pad_body, NULL, 0xC2, 0x41286);
}

/* ---- what must not stop ------------------------------------------------------------ */

/* With pool tracking off, a block of a page whose record lists it (four
 * blocks of 1000 bytes a page) is freed without a look at its header,
 * then the block before it overruns into that header. The host reads the
 * counters (the summary, --pool-usage, !poolused do) without the machine
 * running: nothing may stop there. The next allocation of that size is
 * handed the block, finds the header destroyed and names the free. Under
 * "standard" the free reads the header before the overrun and nothing
 * stops until the allocation either. */
static void corrupt_parked_body(void *arg)
{
    (void)arg;
    uint8_t *a, *b;
    neighbours(1000, 'dkrP', &a, &b);
    ExFreePoolWithTag(b, 'dkrP');
    memset(b - ex_unit, 0x41, ex_unit);
}

static void reuse_body(void *arg)
{
    (void)arg;
    reuse(1000, 'dkrP');
}

static void test_host_reads_corrupt_parked(void **state)
{
    (void)state;
    for (int m = 0; m < 2; m++) {
        wdmsim *sim = boot(modes[m]);
        struct sys *sys = (struct sys *)sim; /* struct wdmsim begins with its struct sys */
        assert_int_equal(wdmsim_call(sim, corrupt_parked_body, NULL), WDMSIM_OK);
        struct ex_tag_stat s = ex_pool_tag_stat(&sys->ex, 'dkrP', -1);
        assert_int_equal(s.allocs, 64);
        assert_int_equal(s.frees, 1);
        FILE *f = fopen("/dev/null", "w");
        assert_non_null(f);
        wdmsim_pool_usage(sim, f);
        fclose(f);
        assert_int_equal(wdmsim_call(sim, reuse_body, NULL), WDMSIM_STOPPED);
        assert_int_equal(wdmsim_get_bugcheck(sim)->code, 0x19);
        assert_int_equal(wdmsim_get_bugcheck(sim)->parameters[0], 0x20);
        if (m == 0) /* the fast free parked it: the report names that free */
            assert_non_null(strstr(wdmsim_get_bugcheck(sim)->text, "by the call at"));
        wdmsim_shutdown(sim);
    }
}

/* The page record counts the live blocks whose tag is not the page's. A
 * header whose tag was rewritten to the page's before its free leaves
 * that count one too high; once the page is empty the next block starts
 * the record afresh. */
static void stale_other_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    uint8_t *x = NULL, *y = NULL;
    struct ex_prec *m = NULL;
    for (int i = 0; i < 200 && !m; i++) {
        x = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'AAAA');
        y = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'BBBB');
        uint64_t idx = ex_page_index(ex, x);
        if (idx == ex_page_index(ex, y) && ex_prec_of(ex, idx)->live == 2)
            m = ex_prec_of(ex, idx);
    }
    assert_non_null(m);
    assert_int_equal(m->tag, 'AAAA');
    assert_int_equal(m->other, 1);
    ((struct ex_hdr *)y - 1)->tag = 'AAAA';
    ExFreePoolWithTag(y, 'AAAA');
    ExFreePoolWithTag(x, 'AAAA');
    assert_int_equal(m->live, 0);
    uint8_t *z = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'CCCC');
    assert_ptr_equal(ex_prec_of(ex, ex_page_index(ex, z)), m);
    assert_int_equal(m->live, 1);
    assert_int_equal(m->tag, 'CCCC');
    assert_int_equal(m->other, 0);
    ExFreePoolWithTag(z, 'CCCC');
}

static void test_stale_other(void **state)
{
    (void)state;
    run_ok("none", stale_other_body, NULL);
    run_ok("standard", stale_other_body, NULL);
}

/* In list form, each entry of page idx's record is a live header's unit
 * and that block's size. */
static void check_list(struct ex *ex, uint64_t idx)
{
    const struct ex_prec *r = ex_prec_of(ex, idx);
    uint8_t *page = ex->sys->mm.system.base + (idx << ex->page_shift);
    for (unsigned i = 0; !r->bits && i < r->live; i++) {
        const struct ex_hdr *h = (const struct ex_hdr *)(page + r->unit[i] * ex_unit);
        assert_int_equal(hdr_size(h), r->units[i]);
        assert_true(ex_hdr_live(ex, h));
    }
}

/* The page record lists up to ex_prec_list live blocks with their sizes,
 * then switches to its bitmap until the page is empty. Blocks of one page
 * are freed in an order that moves entries within the list; after each
 * free, the freed block is not live and every other one still is, with
 * its size. */
static void page_record_body(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    struct ex *ex = &sys_get()->ex;
    enum { many = 96 };
    uint8_t *q[many];
    for (int i = 0; i < many; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, n + (size_t)(i % 5) * ex_unit, 'ceRP');
    /* the page holding most of them */
    uint64_t best = 0;
    unsigned best_live = 0;
    for (int i = 0; i < many; i++) {
        uint64_t idx = ex_page_index(ex, q[i]);
        if (ex_prec_of(ex, idx)->live > best_live) {
            best_live = ex_prec_of(ex, idx)->live;
            best = idx;
        }
    }
    struct ex_prec *r = ex_prec_of(ex, best);
    uint8_t *mine[many];
    uint64_t bytes[many];
    unsigned k = 0;
    for (int i = 0; i < many; i++)
        if (ex_page_index(ex, q[i]) == best) {
            bytes[k] = ex_pool_block_bytes(ex, q[i]);
            mine[k++] = q[i];
        }
    assert_int_equal(k, r->live);
    assert_int_equal(r->bits, k > ex->prec_cap);
    for (unsigned j = 0; j < k; j++) {
        unsigned pick = (j * 7) % (k - j); /* from the middle, the front, the back */
        ExFreePoolWithTag(mine[pick], 'ceRP');
        assert_int_equal(ex_pool_block_bytes(ex, mine[pick]), 0);
        mine[pick] = mine[k - j - 1];
        bytes[pick] = bytes[k - j - 1];
        assert_int_equal(r->live, k - j - 1);
        check_list(ex, best);
        for (unsigned i = 0; i < k - j - 1; i++)
            assert_int_equal(ex_pool_block_bytes(ex, mine[i]), bytes[i]);
    }
    assert_int_equal(r->live, 0);
    assert_int_equal(r->bits, 0);
    for (int i = 0; i < many; i++)
        if (ex_page_index(ex, q[i]) != best)
            ExFreePoolWithTag(q[i], 'ceRP');
}

static void test_page_record(void **state)
{
    (void)state;
    /* 64-128 bytes and 208-272 (bitmap pages), 320-384 (about the list's
     * 11), 1024-1088 (lists of 3 or 4) */
    static const size_t sizes[] = {40, 200, 300, 1000};
    for (unsigned i = 0; i < 4; i++)
        for (int m = 0; m < 2; m++)
            run_ok(modes[m], page_record_body, (void *)(uintptr_t)sizes[i]);
}

/* A double free on a page whose record is its bitmap. */
static void double_free_bits_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    uint8_t *q[64];
    for (int i = 0; i < 64; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 40, 'tiBD');
    for (int i = 0; i < 64; i++) {
        if (ex_prec_of(ex, ex_page_index(ex, q[i]))->bits) {
            ExFreePoolWithTag(q[i], 'tiBD');
            ExFreePoolWithTag(q[i], 'tiBD');
        }
    }
    fail();
}

static void test_double_free_bits(void **state)
{
    (void)state;
    expect_stop(double_free_bits_body, NULL, 0xC4, 0x13);
}

/* ex_pool_block_bytes is 0 once a special-pool block is freed. */
static void special_bytes_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    uint8_t *p = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_SPECIAL_POOL, 100, 'cepS');
    assert_true(ex_special_owns(ex, p));
    assert_int_equal(ex_pool_block_bytes(ex, p), ex->page_size);
    assert_int_equal(ex_pool_block_bytes(ex, p + 16), 0);
    ExFreePoolWithTag(p, 'cepS');
    assert_int_equal(ex_pool_block_bytes(ex, p), 0);
}

static void test_special_block_bytes(void **state)
{
    (void)state;
    run_ok("none", special_bytes_body, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_free),      cmocka_unit_test(test_mid_block),
        cmocka_unit_test(test_page_start),       cmocka_unit_test(test_protected_tag),
        cmocka_unit_test(test_damaged_header),   cmocka_unit_test(test_prev_in_range),
        cmocka_unit_test(test_stale_pad),        cmocka_unit_test(test_host_reads_corrupt_parked),
        cmocka_unit_test(test_stale_other),      cmocka_unit_test(test_page_record),
        cmocka_unit_test(test_double_free_bits), cmocka_unit_test(test_special_block_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
