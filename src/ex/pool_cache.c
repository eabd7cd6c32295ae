/*
 * src/ex/pool_cache.c - the per-processor caches of small pool blocks and
 * the depot between them and the central heaps (pool_heap.c).
 *
 * Models: Windows' per-processor lookaside lists of small pool blocks, as
 * a LIFO list per size class. Requests are rounded to size classes (exact
 * unit counts up to 1 KiB, then ~6 % steps). A processor cache parks
 * freed blocks LIFO by class (about 64 KiB per class); a list that
 * overflows gives its older half, as one batch, to the heap's depot, and
 * a list that runs dry takes a batch back from it, each in O(1) under one
 * lock round with no split and no coalescing. The depot is free space not
 * coalesced yet: when the heap would map a new page and the depot holds
 * more than 1/32 of its pages, it gives the depot back to the free lists
 * first, so it raises the pool by 3 % at most. A flushed batch goes to the
 * heap that owns its first block. Lists and batches are arrays in host
 * memory (as jemalloc's thread caches): parking a block writes nothing
 * into it, so a free touches no cold line of the block, a flush walks no
 * chain of them, and a driver's write after free cannot reach the pool's
 * bookkeeping. A parked header is checked when the block is handed out
 * again, coalesced, or at a driver's unload.
 *   free:  cache list (LIFO) -> depot batch -> free lists (coalesce)
 *   alloc: cache list -> depot batch -> free lists (best fit, split) -> new page
 * Invariants: a depot batch of u units holds batch_size(u) blocks; a cache
 * list holds at most limit + 1 (the push that passes the limit flushes).
 */
#include <stdlib.h>
#include <string.h>

#include "ex/pool_impl.h"
#include "sys.h"

/* ---- processor caches and the depot ---------------------------------------- */

/* Size classes: exact unit counts up to 65 (requests up to 1 KiB), then
 * steps of 1/16 of the size (about 6 %), the largest block always a class:
 * 24 classes above 1 KiB instead of 190 unit counts (4 KiB pages). A
 * request takes its class's block (the extra units count as slack), so a
 * cache or depot list serves a band of sizes, freed blocks fit the next
 * request of their band exactly, and each list can hold more for the same
 * memory. Cost: ~3 % of a large block on average (docs/performance.md).
 * Parked blocks per class in a cache: about 64 KiB worth, 4 to 256 blocks;
 * a cache moves half of that at a time. */
enum { ex_exact_units = 65, ex_class_step = 16, ex_cache_budget = 64 << 10 };

void ex_cache_limits_init(struct ex *ex)
{
    unsigned c = 1;
    for (unsigned u = 0; u < ex_max_page_units; u++) {
        if (u > c) {
            c = u <= ex_exact_units ? u : c + c / ex_class_step;
            /* no sliver of a class just below the largest block */
            if (c > ex->max_units || ex->max_units - c < c / ex_class_step / 2)
                c = ex->max_units;
        }
        ex->unit_class[u] = (uint16_t)(u > ex->max_units ? u : c);
        unsigned n = ex_cache_budget / ex_unit / (u ? u : 1);
        ex->cache_limit[u] = (uint16_t)(n < 4 ? 4 : n > 256 ? 256 : n);
    }
}

static inline unsigned cache_limit(const struct ex *ex, unsigned u)
{
    return ex->cache_limit[u];
}

/* The depot holds batches of exactly batch_size(u) blocks: a cache flushes
 * when its list passes the limit, keeping half. The depot is free space
 * that has not been coalesced: ex_heap_take gives it all back to the free
 * lists (ex_depot_consolidate) before it maps a new page once it holds
 * more than 1/ex_depot_hold of the heap's pages, so the pages held grow
 * by at most that because of it; and a flush never makes it hold more than
 * 1 MiB plus ex_depot_share of the heap's pages. */
enum { ex_depot_floor = 1 << 20, ex_depot_share = 8 };

static inline unsigned batch_size(const struct ex *ex, unsigned u)
{
    return cache_limit(ex, u) + 1 - cache_limit(ex, u) / 2;
}

/* The cache's list of u units is empty: a batch from the depot if there is
 * one (no split), else blocks from the free lists. */
bool ex_cache_refill(struct ex *ex, struct ex_cache *c, enum ex_kind kind, unsigned u,
                     struct ex_hdr **out)
{
    struct ex_clist *l = &c->kind[kind].list[u];
    struct ex_heap *hp = &ex->heaps[c->heap][kind];
    *out = NULL;
    ex_lock(&hp->lock);
    struct ex_batch *b = hp->depot[u];
    if (b) {
        /* parked by some cache without a look at their headers: they are
         * taken from the list, which checks them */
        hp->depot[u] = b->next;
        hp->depot_bytes -= (uint64_t)b->n * u * ex_unit;
        ex_unlock(&hp->lock);
        memcpy(l->slot, b->slot, b->n * sizeof(b->slot[0]));
        l->count = (uint16_t)b->n;
        free(b);
        return true;
    }
    unsigned batch = cache_limit(ex, u) / 2;
    struct ex_hdr *first = ex_heap_take(ex, kind, hp, u);
    /* Not free any more before the lock drops: another host thread's
     * coalescing would otherwise take it for a free neighbour. */
    if (first)
        first->type = (uint8_t)(ex_hdr_busy | kind);
    for (unsigned i = 1; first && i < batch; i++) {
        struct ex_hdr *h = ex_heap_take(ex, kind, hp, u);
        if (!h)
            break;
        unsigned hu = hdr_size(h);
        struct ex_clist *lh = &c->kind[kind].list[hu];
        h->type = (uint8_t)(ex_hdr_busy | kind);
        if (lh->count >= lh->limit) {
            ex_heap_give(ex, hp, h); /* a block one unit longer, its list full */
            continue;
        }
        lh->slot[lh->count++] = (struct ex_cslot){.h = h};
    }
    ex_unlock(&hp->lock);
    *out = first;
    return first != NULL;
}

/* Gives the cache's whole list of u units to the free lists (coalescing),
 * each block to its page's heap. */
static void cache_drain(struct ex *ex, struct ex_cache_kind *ck, enum ex_kind kind, unsigned u)
{
    struct ex_clist *l = &ck->list[u];
    while (l->count) {
        struct ex_hdr *h = l->slot[--l->count].h;
        struct ex_heap *hp = ex_heap_owner(ex, h, kind);
        ex_lock(&hp->lock);
        ex_heap_give(ex, hp, h);
        ex_unlock(&hp->lock);
    }
}

/* The cache's list of u units passed its limit: the newest half stays,
 * the older half goes to the depot as one batch, or, when the depot is
 * full (or no host memory is left for the batch), back to the free lists.
 * Both are those of the heap that owns the batch's first block: a thread
 * that frees what another allocated (a producer and a consumer) then feeds
 * the producer's depot, where its refills find the batches; a batch may
 * still hold blocks of other heaps' pages, which ex_heap_put routes when
 * it is coalesced. */
__attribute__((ms_abi)) void ex_cache_flush(struct ex *ex, struct ex_cache_kind *ck,
                                            enum ex_kind kind, unsigned u)
{
    struct ex_clist *l = &ck->list[u];
    unsigned keep = cache_limit(ex, u) / 2, n = l->count - keep;
    struct ex_heap *hp = ex_heap_owner(ex, l->slot[0].h, kind);
    uint64_t bytes = (uint64_t)n * u * ex_unit;
    /* the batch is made before the lock (no allocation under a spin
     * lock), and freed after it when the depot is full */
    struct ex_batch *b = NULL;
    if (n == batch_size(ex, u) && (b = malloc(sizeof(*b) + n * sizeof(b->slot[0])))) {
        b->n = n;
        memcpy(b->slot, l->slot, n * sizeof(b->slot[0]));
    }
    ex_lock(&hp->lock);
    if (b && hp->depot_bytes + bytes <=
                 ex_depot_floor + (hp->pages << ex->page_shift) / ex_depot_share) {
        b->next = hp->depot[u];
        hp->depot[u] = b;
        hp->depot_bytes += bytes;
        b = NULL;
    } else {
        for (unsigned i = 0; i < n; i++)
            ex_heap_put(ex, hp, l->slot[i].h, kind);
    }
    ex_unlock(&hp->lock);
    free(b);
    memmove(l->slot, l->slot + n, keep * sizeof(l->slot[0]));
    l->count = (uint16_t)keep;
}

void *ex_small_alloc(struct ex *ex, struct ex_cache *c, const struct ex_req *r, uint64_t *occupied)
{
    uint64_t need = r->bytes ? r->bytes : 1;
    unsigned u = 1 + (unsigned)((need + ex_unit - 1) / ex_unit);
    if (r->cache_aligned)
        u += 3; /* room to move the body to the next 64-byte line */
    u = ex->unit_class[u];
    struct ex_cache_kind *ck = &c->kind[r->kind];
    struct ex_hdr *h;
    for (;;) {
        bool bad = false;
        if ((h = ex_cache_take(ex, ck, u, &bad)))
            break;
        if (bad) {
            ex_parked_corrupt(ex, ck, r->kind, u);
            continue;
        }
        if (!ex_cache_refill(ex, c, r->kind, u, &h))
            return NULL;
        if (h)
            break;
    }
    unsigned hu = hdr_size(h);
    h->type = (uint8_t)(ex_hdr_busy | r->kind | (r->quota ? ex_hdr_quota : 0));
    h->tag = r->tag;
    h->owner = r->owner;
    h->slack = (uint16_t)((hu - 1) * ex_unit - r->bytes);
    ex_mark_live(ex, h, hu, r->tag, r->owner);
    *occupied = (uint64_t)hu * ex_unit;
    uint8_t *p = (uint8_t *)(h + 1);
    if (r->cache_aligned && ((uintptr_t)p & 63)) {
        uint8_t *a = (uint8_t *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
        struct ex_hdr *pad = (struct ex_hdr *)a - 1;
        /* A free of h's own body is a mid-block free: the free path must
         * read h's type, so the page leaves its list for its bitmap. */
        h->type |= ex_hdr_padded;
        uint64_t idx = ex_page_index(ex, h);
        struct ex_prec *rec = ex_prec_of(ex, idx);
        bool locked = prec_lock(ex, rec);
        if (!rec->bits)
            ex_prec_to_bits(ex, idx, rec);
        prec_unlock(rec, locked);
        ex_hdr_init(ex, pad, (unsigned)(((uint8_t *)pad - (uint8_t *)h) / ex_unit), 0,
                    (uint8_t)(ex_hdr_busy | ex_hdr_pad | r->kind));
        pad->tag = r->tag;
        h->slack = (uint16_t)(h->slack - (a - p));
        p = a;
    }
    return p;
}

uint64_t ex_small_occupied(const struct ex_hdr *h)
{
    return (uint64_t)hdr_size(h) * ex_unit;
}

static void parked_report(struct ex *ex, struct ex_hdr *h, unsigned kind, unsigned u, void *site)
{
    /* This stop comes in a later call, maybe another driver's: the text
     * names the free that parked the block. */
    struct io_driver *d = site ? io_driver_by_address(&ex->sys->io, (uintptr_t)site) : NULL;
    vf_fire(&ex_rule_header_corrupt, (uint64_t)(uintptr_t)h,
            (uint64_t)(uintptr_t)hdr_at(h, hdr_size(h)), 0,
            "the pool header at %p of a block freed earlier (by the call at %p%s%s) is corrupt "
            "(type %#x, %u units, previous %u; parked as %s, %u units): a block before it was "
            "overrun",
            (void *)h, site, d ? " in " : "", d ? d->service : "", h->type, hdr_size(h),
            hdr_prev(h), kind == ex_kind_paged ? "paged" : "nonpaged", u);
}

__attribute__((ms_abi)) void ex_parked_corrupt(struct ex *ex, struct ex_cache_kind *ck,
                                               unsigned kind, unsigned u)
{
    struct ex_clist *l = &ck->list[u];
    struct ex_cslot s = l->slot[--l->count]; /* it stays out of the pool */
    parked_report(ex, s.h, kind, u, s.site);
}

/* Checks n parked blocks of u units; a corrupt one is reported and taken
 * out. Returns how many are left. */
static unsigned check_slots(struct ex *ex, struct ex_cslot *slot, unsigned n, unsigned kind,
                            unsigned u)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (ex_parked_ok(ex, slot[i].h, u, ex_parked_want(kind, u)))
            slot[k++] = slot[i];
        else
            parked_report(ex, slot[i].h, kind, u, slot[i].site);
    }
    return k;
}

/* A heap's remote stack (blocks of any size, linked through their bodies:
 * ex_link_put). */
static void check_remote(struct ex *ex, struct ex_heap *hp, unsigned kind)
{
    struct ex_hdr *prev = NULL;
    for (struct ex_hdr *h = hp->remote; h;) {
        struct ex_hdr *next = ex_link_get(ex, ex_body_link(h));
        unsigned u = hdr_size(h);
        bool link_ok = ex_link_ok(ex, next, kind);
        if (!link_ok || !ex_parked_ok(ex, h, u, ex_parked_want(kind, u))) {
            if (prev)
                *(void **)(prev + 1) = ex_link_put(ex, NULL);
            else
                hp->remote = NULL;
            if (!link_ok)
                ex_link_corrupt(ex, h, ex_body_link(h), kind, "a heap's remote stack");
            else
                parked_report(ex, h, kind, u, NULL);
            return;
        }
        prev = h;
        h = next;
    }
}

void ex_pool_check_parked(struct ex *ex)
{
    for (unsigned k = 0; k < ex_kind_count; k++) {
        for (unsigned i = 0; i < ex_heaps; i++)
            check_remote(ex, &ex->heaps[i][k], k);
        for (unsigned u = 2; u < ex_max_page_units; u++) {
            for (unsigned i = 0; i < ex->ncaches; i++) {
                struct ex_clist *l = &ex->caches[i].kind[k].list[u];
                if (l->count)
                    l->count = (uint16_t)check_slots(ex, l->slot, l->count, k, u);
            }
            for (unsigned i = 0; i < ex_heaps; i++)
                for (struct ex_batch *b = ex->heaps[i][k].depot[u]; b; b = b->next)
                    b->n = check_slots(ex, b->slot, b->n, k, u);
        }
    }
}

/* hp->lock held. A batch may hold blocks of other heaps' pages: heap_put. */
void ex_depot_consolidate(struct ex *ex, struct ex_heap *hp)
{
    unsigned kind = ex_heap_kind(ex, hp);
    for (unsigned u = 0; u < ex_max_page_units; u++) {
        while (hp->depot[u]) {
            struct ex_batch *b = hp->depot[u];
            hp->depot[u] = b->next;
            for (unsigned i = 0; i < b->n; i++)
                ex_heap_put(ex, hp, b->slot[i].h, kind);
            free(b);
        }
    }
    hp->depot_bytes = 0;
}

void ex_pool_trim(struct ex *ex)
{
    for (unsigned i = 0; i < ex->ncaches; i++)
        for (int k = 0; k < ex_kind_count; k++)
            for (unsigned u = 0; u < ex_max_page_units; u++)
                if (ex->caches[i].kind[k].list[u].count)
                    cache_drain(ex, &ex->caches[i].kind[k], (enum ex_kind)k, u);
    /* first every depot (which may feed other heaps' remote stacks), then
     * every remote stack (which feeds none) */
    for (unsigned i = 0; i < ex_heaps; i++)
        for (int k = 0; k < ex_kind_count; k++) {
            struct ex_heap *hp = &ex->heaps[i][k];
            ex_lock(&hp->lock);
            ex_depot_consolidate(ex, hp);
            ex_unlock(&hp->lock);
        }
    for (unsigned i = 0; i < ex_heaps; i++)
        for (unsigned k = 0; k < ex_kind_count; k++)
            ex_heap_trim(ex, &ex->heaps[i][k]);
}
