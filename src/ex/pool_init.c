/*
 * src/ex/pool_init.c - the pool's boot and shutdown, its caches, its rules.
 *
 * Models: nothing of Windows; the wiring of src/ex's pool into the machine.
 * Caches: one per processor, indexed by the running processor (ke.current)
 * in deterministic mode; then ex_host_slots more for host threads that
 * attach (parallel mode, benchmarks), each with its own heaps (ex.h:
 * struct ex_heap) while the processors share heap 0. A host thread's attachment is kept
 * in a thread-local (pool, cache) pair: like sys_current, it says which
 * machine's cache this thread owns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ex/pool_impl.h"
#include "sys.h"

__thread struct ex_attach ex_attached;

void ex_pool_thread_attach(struct ex *ex, unsigned slot)
{
    if (slot >= ex_host_slots) {
        /* Two threads on one cache would corrupt it: a caller's bug. */
        fprintf(stderr, "wdmsim: ex_pool_thread_attach: slot %u, the pool has %u host slots\n",
                slot, (unsigned)ex_host_slots);
        abort();
    }
    /* More distinct slots than ex_pool_host_threads declared: several
     * threads after all, and the page records need atomic updates. */
    unsigned slots = __atomic_or_fetch(&ex->mt_slots, 1u << slot, __ATOMIC_SEQ_CST);
    if ((unsigned)__builtin_popcount(slots) > ex->mt_declared) /* 0: never declared */
        __atomic_store_n(&ex->mt, true, __ATOMIC_SEQ_CST);
    ex_attached.ex = ex;
    ex_attached.cache = &ex->caches[ex->sys->ke.nprocessors + slot];
}

void ex_pool_host_threads(struct ex *ex, unsigned n)
{
    ex->mt = n > 1;
    ex->mt_declared = n;
    ex->mt_slots = 0;
}

int ex_pool_init(struct ex *ex, struct sys *sys, struct machine_error *err)
{
    ex->sys = sys;
    ex->page_shift = sys->mm.page_shift;
    ex->page_size = sys->mm.page_size;
    ex->page_units = (unsigned)(ex->page_size / ex_unit);
    ex->max_units = ex->page_units - 1;
    ex->small_max = ex->page_size - 32;
    struct rng r;
    rng_seed(&r, sys->machine.seed ^ 0x506f6f6cULL); /* "Pool": its own stream */
    ex->secret = (uint32_t)rng_next(&r);
    ex->fill = (uint8_t)(0x80 | (rng_next(&r) & 0x7f)); /* never 0 */
    ex->link_key = rng_next(&r) | 1;                    /* a NULL link is never stored as 0 */
    ex_cache_limits_init(ex);
    ex->ncaches = sys->ke.nprocessors + ex_host_slots;
    ex->caches = calloc(ex->ncaches, sizeof(*ex->caches));
    ex->heaps = aligned_alloc(64, sizeof(*ex->heaps) * ex_heaps);
    if (!ex->caches || !ex->heaps || ex_heap_init(ex) || ex_big_init(ex) || ex_special_init(ex)) {
        machine_error_set(err, "out of host memory setting up the pools");
        return -1;
    }
    /* Each cache's lists, limit + 1 entries each, in one allocation: the
     * host touches the pages of the sizes in use only. */
    size_t per_cache = 0;
    for (unsigned u = 0; u < ex_max_page_units; u++)
        per_cache += ex_kind_count * (ex->cache_limit[u] + 1u);
    for (unsigned i = 0; i < ex->ncaches; i++) {
        struct ex_cslot *s = calloc(per_cache, sizeof(*s));
        if (!s) {
            machine_error_set(err, "out of host memory setting up the pools");
            return -1;
        }
        ex->caches[i].slots = s;
        /* bytes 0xFF fail pool.tag-chars: no tag ever equals it */
        ex->caches[i].tag_ok = 0xFFFFFFFFu;
        for (unsigned k = 0; k < ex_kind_count; k++)
            for (unsigned u = 0; u < ex_max_page_units; u++) {
                struct ex_clist *l = &ex->caches[i].kind[k].list[u];
                l->slot = s;
                l->limit = ex->cache_limit[u];
                l->want = ex_parked_want(k, u);
                s += l->limit + 1;
            }
    }
    memset(ex->heaps, 0, sizeof(*ex->heaps) * ex_heaps);
    memset(ex->carvers, 0, sizeof(ex->carvers));
    for (unsigned i = 0; i < ex_heaps; i++)
        for (int k = 0; k < ex_kind_count; k++)
            ex->heaps[i][k].id = (uint8_t)i;
    /* the processors share heap 0, so deterministic mode carves as before */
    for (unsigned s = 0; s < ex_host_slots; s++)
        ex->caches[sys->ke.nprocessors + s].heap = (uint8_t)(1 + s);
    if (mm_fault_install() == 0)
        mm_fault_register(ex_special_fault);
    ex_pool_gates(ex);
    return 0;
}

void ex_pool_gates(struct ex *ex)
{
    struct sys *sys = ex->sys;
    ex->free_gate =
        ex->lookaside.count || sys->ke.trace.observe || (sys->vf.options & vf_opt_pool_tracking);
    ex->alloc_gate = sys->ke.trace.observe || (sys->vf.options & ex_slow_options);
    ex->alloc_fill = (sys->vf.options & vf_opt_pool_tracking) != 0;
}

void ex_pool_fini(struct ex *ex)
{
    ex_special_fini(ex);
    ex_big_fini(ex);
    ex_heap_fini(ex);
    for (unsigned i = 0; ex->caches && i < ex->ncaches; i++)
        free(ex->caches[i].slots);
    for (unsigned i = 0; ex->heaps && i < ex_heaps; i++)
        for (unsigned k = 0; k < ex_kind_count; k++)
            for (unsigned u = 0; u < ex_max_page_units; u++)
                while (ex->heaps[i][k].depot[u]) {
                    struct ex_batch *b = ex->heaps[i][k].depot[u];
                    ex->heaps[i][k].depot[u] = b->next;
                    free(b);
                }
    free(ex->caches);
    ex->caches = NULL;
    free(ex->heaps);
    ex->heaps = NULL;
    if (ex_attached.ex == ex)
        ex_attached.ex = NULL;
}

uint64_t ex_pool_pages(const struct ex *ex)
{
    return ex->pages_mapped;
}

uint64_t ex_pool_block_bytes(struct ex *ex, const void *p)
{
    uint8_t *base = ex->sys->mm.system.base;
    if ((const uint8_t *)p < base || (const uint8_t *)p >= base + ex->sys->mm.system.bytes)
        return 0;
    uint8_t pm = ex_pm_get(ex, (uint64_t)((const uint8_t *)p - base) >> ex->page_shift);
    if (pm >= ex_pm_small && pm < ex_pm_small + ex_kind_count) {
        const struct ex_hdr *h = (const struct ex_hdr *)p - 1;
        /* in the page's first two units h is no block's (or in the page before) */
        if ((uintptr_t)p & 15 || ((uintptr_t)p & (ex->page_size - 1)) < 2 * ex_unit ||
            h->cookie != hdr_cookie(ex, h))
            return 0;
        if (h->type & ex_hdr_padded)
            return 0; /* the block starts after its pad */
        if (h->type & ex_hdr_pad) {
            if ((h->type & ex_hdr_busy) == 0 || !(h = ex_pad_real(ex, h)) ||
                h->cookie != hdr_cookie(ex, h))
                return 0;
        }
        return ex_hdr_live(ex, h) ? ex_small_occupied(h) : 0;
    }
    struct ex_big b;
    if (pm >= ex_pm_big && pm < ex_pm_big + ex_kind_count && ex_big_lookup(ex, (uintptr_t)p, &b))
        return (uint64_t)b.pages << ex->page_shift;
    if (ex_special_owns(ex, p) && ex_special_live_at(ex, p))
        return ex->page_size;
    return 0;
}

const struct vf_rule *const ex_pool_vf_rules[ex_pool_vf_rule_count] = {
    &ex_rule_zero_size,
    &ex_rule_paged_above_apc,
    &ex_rule_nonpaged_above_dispatch,
    &ex_rule_must_succeed,
    &ex_rule_tag_zero,
    &ex_rule_tag_big,
    &ex_rule_tag_chars,
    &ex_rule_bad_type,
    &ex_rule_free_bad_address,
    &ex_rule_free_mid_block,
    &ex_rule_free_paged_above_apc,
    &ex_rule_free_nonpaged_above_dispatch,
    &ex_rule_double_free,
    &ex_rule_free_wrong_tag,
    &ex_rule_leak_at_unload,
    &ex_rule_executable,
    &ex_rule_header_corrupt,
    &ex_rule_freelist_corrupt,
    &mm_rule_contiguous_bad_free,
    &ex_rule_spool_overrun,
    &ex_rule_spool_underrun,
    &ex_rule_spool_use_after_free,
    &ex_rule_spool_corrupt_at_free,
    &ex_rule_spool_bad_irql,
};
