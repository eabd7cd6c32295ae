/*
 * src/ex/pool_classify.c - what a pointer into a small pool page is: the
 * full free path's classification, and the walk over live blocks.
 *
 * Models: Windows' BAD_POOL_CALLER / BAD_POOL_HEADER checks of an address
 * handed to ExFreePool: a pointer whose header does not check out is
 * placed by walking its page's headers from the first (spec/verifier.md 1).
 * Invariants: pool_heap.c's.
 */
#include "ex/pool_impl.h"
#include "sys.h"

/* ---- checking a pointer handed to ExFreePool ------------------------------- */

/* Walks p's page from its header to classify a pointer whose header does
 * not check out; every path ends in a rule (stops) or returns NULL. */
static struct ex_hdr *classify_slow(struct ex *ex, void *p)
{
    uint8_t *page = (uint8_t *)((uintptr_t)p & ~(uintptr_t)(ex->page_size - 1));
    unsigned off = 1;
    struct ex_hdr *h = hdr_at(page, 1);
    while (off < ex->page_units) {
        unsigned u = hdr_size(h);
        if (u == 0 || off + u > ex->page_units || h->cookie != hdr_cookie(ex, h)) {
            vf_fire(&ex_rule_header_corrupt, (uint64_t)(uintptr_t)h,
                    (uint64_t)(uintptr_t)hdr_at(h, u), 0,
                    "the pool header at %p (block size %u units) is corrupt: a block before it "
                    "was overrun [freeing %p]",
                    (void *)h, u, p);
            return NULL;
        }
        uint8_t *lo = (uint8_t *)h, *hi = (uint8_t *)hdr_at(h, u);
        if ((uint8_t *)p >= lo && (uint8_t *)p < hi) {
            /* busy but not live: being freed by another thread */
            if (h->type == 0 || !ex_hdr_live(ex, h)) {
                vf_fire(&ex_rule_double_free, 0, (uint64_t)(uintptr_t)h, *(uint64_t *)h,
                        "%p is inside a pool block that is already free", p);
            } else {
                vf_fire(&ex_rule_free_mid_block, (uint64_t)(uintptr_t)p, 0,
                        (uint64_t)((uintptr_t)p & (ex->page_size - 1)),
                        "%p is inside the pool block at %p (tag %.4s), not its start", p,
                        (void *)(h + 1), (const char *)&h->tag);
            }
            return NULL;
        }
        off += u;
        h = hdr_at(h, u);
    }
    vf_fire(&ex_rule_free_bad_address, (uint64_t)(uintptr_t)p, 0, 0,
            "%p is the pool page header, not a block", p);
    return NULL;
}

__attribute__((ms_abi)) struct ex_hdr *ex_small_header(struct ex *ex, void *p)
{
    if ((uintptr_t)p & (ex_unit - 1))
        return classify_slow(ex, p);
    struct ex_hdr *h = (struct ex_hdr *)p - 1;
    /* p in the page's first two units: h is the page header or in the
     * page before (maybe not mapped) */
    if (((uintptr_t)p & (ex->page_size - 1)) < 2 * ex_unit || h->cookie != hdr_cookie(ex, h))
        return classify_slow(ex, p);
    if ((h->type & (ex_hdr_busy | ex_hdr_pad)) == (ex_hdr_busy | ex_hdr_pad)) {
        struct ex_hdr *real = ex_pad_real(ex, h);
        if (real && real->cookie == hdr_cookie(ex, real) && (real->type & ex_hdr_busy))
            return real;
        return classify_slow(ex, p);
    }
    if (h->type & ex_hdr_busy)
        return h;
    if (h->type == 0) {
        vf_fire(&ex_rule_double_free, 0, (uint64_t)(uintptr_t)h, *(uint64_t *)h,
                "the pool block at %p was already freed", p);
        return NULL;
    }
    return classify_slow(ex, p);
}

/* ---- enumeration, init ------------------------------------------------------- */

void ex_small_foreach(struct ex *ex, void (*fn)(void *ctx, const struct ex_hdr *h, void *p),
                      void *ctx)
{
    uint8_t *base = ex->sys->mm.system.base;
    uint64_t lo = __atomic_load_n(&ex->pm_lo, __ATOMIC_RELAXED);
    uint64_t hi = __atomic_load_n(&ex->pm_hi, __ATOMIC_RELAXED);
    for (uint64_t i = lo; i < hi; i++) {
        uint8_t v = ex->page_map[i];
        if (v < ex_pm_small || v >= ex_pm_small + ex_kind_count)
            continue;
        uint8_t *page = base + (i << ex->page_shift);
        unsigned off = 1;
        struct ex_hdr *h = hdr_at(page, 1);
        while (off < ex->page_units) {
            unsigned u = hdr_size(h);
            if (u == 0 || off + u > ex->page_units)
                break; /* corrupt: the free path reports it */
            if ((h->type & ex_hdr_busy) && ex_hdr_live(ex, h)) {
                uint8_t *body = (uint8_t *)(h + 1);
                fn(ctx, h, body);
            }
            off += u;
            h = hdr_at(h, u);
        }
    }
}
