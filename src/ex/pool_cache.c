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
 * heap that owns its first block. The fast free (pool.c) queues a block
 * and ex_cache_park parks the queue; a parked header is checked when the
 * block is handed out again, coalesced, or at a driver's unload.
 *   free:  pending queue -> cache list (LIFO) -> depot batch -> free lists
 *   alloc: cache list -> depot batch -> free lists (best fit, split) -> new page
 * Invariants: a depot batch of u units holds batch_size(u) blocks, linked
 * through each body's first word, and its first block's second word links
 * the next batch; a cache list's count is its chain's length; every link is
 * keyed and checked before it is followed (pool_impl.h: ex_link_put).
 */
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
 * when its list passes the limit, keeping half. A batch is a chain linked
 * through each body's first word; the first block's second word links the
 * next batch of the same size (a body has at least 16 bytes). The depot
 * is free space that has not been coalesced: heap_take gives it all back
 * to the free lists (depot_consolidate) before it maps a new page once it
 * holds more than 1/ex_depot_hold of the heap's pages, so the pages held
 * grow by at most that because of it; and a flush never makes it hold
 * more than 1 MiB plus ex_depot_share of the heap's pages. */
enum { ex_depot_floor = 1 << 20, ex_depot_share = 8 };

static inline unsigned batch_size(const struct ex *ex, unsigned u)
{
    return cache_limit(ex, u) + 1 - cache_limit(ex, u) / 2;
}

static inline void **batch_link(struct ex_hdr *first)
{
    return (void **)(first + 1) + 1;
}

/* The block a link in h's body leads to (*slot, decoded and checked):
 * false, after a report, when the link was overwritten. hp, when not
 * NULL, is the heap whose lock is held: the report drops it meanwhile
 * (the report may stop the machine). */
static bool follow(struct ex *ex, struct ex_heap *hp, const struct ex_hdr *h, void *const *slot,
                   unsigned kind, struct ex_hdr **next, const char *where)
{
    struct ex_hdr *n = ex_link_get(ex, *slot);
    if (__builtin_expect(ex_link_ok(ex, n, kind), 1)) {
        *next = n;
        return true;
    }
    if (hp)
        ex_unlock(&hp->lock);
    ex_link_corrupt(ex, h, *slot, kind, where);
    if (hp)
        ex_lock(&hp->lock);
    return false;
}

/* The next block on a cache list or in a batch, and the next batch. */
static inline bool chain_next(struct ex *ex, struct ex_heap *hp, const struct ex_hdr *h,
                              unsigned kind, struct ex_hdr **next)
{
    return follow(ex, hp, h, (void *const *)(h + 1), kind, next, "a cache list");
}
static inline bool batch_next(struct ex *ex, struct ex_heap *hp, struct ex_hdr *first,
                              unsigned kind, struct ex_hdr **next)
{
    return follow(ex, hp, first, batch_link(first), kind, next, "the depot");
}

/* The cache's list of u units is empty: a batch from the depot if there is
 * one (no split), else blocks from the free lists. Returns one block,
 * taken; NULL when there is no memory. */
bool ex_cache_refill(struct ex *ex, struct ex_cache *c, enum ex_kind kind, unsigned u,
                     struct ex_hdr **out)
{
    struct ex_cache_kind *ck = &c->kind[kind];
    struct ex_heap *hp = &ex->heaps[c->heap][kind];
    *out = NULL;
    ex_lock(&hp->lock);
    struct ex_hdr *h = hp->depot[u], *nb;
    if (h && !batch_next(ex, hp, h, kind, &nb))
        hp->depot[u] = h = NULL; /* the depot's batches of u stay out of the pool */
    if (h) {
        /* parked by some cache without a look at their headers: they are
         * taken from the list, which checks them */
        unsigned n = batch_size(ex, u);
        hp->depot[u] = nb;
        hp->depot_bytes -= (uint64_t)n * u * ex_unit;
        ex_unlock(&hp->lock);
        *batch_link(h) = NULL; /* no free's site */
        ck->list[u].head = h;
        ck->list[u].count = (uint16_t)n;
        return true;
    }
    unsigned batch = cache_limit(ex, u) / 2;
    struct ex_hdr *first = ex_heap_take(ex, kind, hp, u);
    /* Not free any more before the lock drops: another host thread's
     * coalescing would otherwise take it for a free neighbour. */
    if (first)
        first->type = (uint8_t)(ex_hdr_busy | kind);
    for (unsigned i = 1; first && i < batch; i++) {
        h = ex_heap_take(ex, kind, hp, u);
        if (!h)
            break;
        unsigned hu = hdr_size(h);
        void **body = (void **)(h + 1);
        h->type = (uint8_t)(ex_hdr_busy | kind);
        body[0] = ex_link_put(ex, ck->list[hu].head);
        body[1] = NULL;
        ck->list[hu].head = h;
        ck->list[hu].count++;
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
    while (l->count && l->head) {
        struct ex_hdr *h = l->head, *next;
        if (!chain_next(ex, NULL, h, kind, &next))
            next = NULL; /* the rest stays out of the pool */
        l->head = next;
        l->count--;
        struct ex_heap *hp = ex_heap_owner(ex, h, kind);
        ex_lock(&hp->lock);
        ex_heap_give(ex, hp, h);
        ex_unlock(&hp->lock);
    }
    l->head = NULL;
    l->count = 0;
}

/* The cache's list of u units passed its limit: the newest half stays,
 * the older half goes to the depot as one batch, or, when the depot is
 * full, back to the free lists. Both are those of the heap that owns the
 * batch's first block: a thread that frees what another allocated (a
 * producer and a consumer) then feeds the producer's depot, where its
 * refills find the batches; a batch may still hold blocks of other heaps'
 * pages, which heap_put routes when it is coalesced. */
__attribute__((ms_abi)) void ex_cache_flush(struct ex *ex, struct ex_cache_kind *ck,
                                            enum ex_kind kind, unsigned u)
{
    struct ex_clist *l = &ck->list[u];
    unsigned keep = cache_limit(ex, u) / 2;
    struct ex_hdr *cut = l->head, *rest = NULL;
    for (unsigned i = 1; cut && i < keep; i++)
        if (!chain_next(ex, NULL, cut, kind, &cut))
            cut = NULL;
    if (!cut || !chain_next(ex, NULL, cut, kind, &rest) || !rest) {
        /* a link was overwritten (reported), or the list is shorter than
         * its count after one was: it stays out of the pool */
        l->head = NULL;
        l->count = 0;
        return;
    }
    unsigned n = l->count - keep;
    *(void **)(cut + 1) = ex_link_put(ex, NULL);
    l->count = (uint16_t)keep;
    struct ex_heap *hp = ex_heap_owner(ex, rest, kind);
    uint64_t bytes = (uint64_t)n * u * ex_unit;
    ex_lock(&hp->lock);
    if (n == batch_size(ex, u) &&
        hp->depot_bytes + bytes <=
            ex_depot_floor + (hp->pages << ex->page_shift) / ex_depot_share) {
        *batch_link(rest) = ex_link_put(ex, hp->depot[u]);
        hp->depot[u] = rest;
        hp->depot_bytes += bytes;
        ex_unlock(&hp->lock);
        return;
    }
    while (rest) {
        struct ex_hdr *h = rest;
        if (!chain_next(ex, hp, h, kind, &rest))
            rest = NULL;
        ex_heap_put(ex, hp, h, kind);
    }
    ex_unlock(&hp->lock);
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
        if ((h = ex_cache_take(ex, ck, r->kind, u, &bad)))
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

/* h failed ex_parked_ok: its header, or else its list link. */
static void parked_fail(struct ex *ex, struct ex_hdr *h, unsigned kind, unsigned u, void *site)
{
    if (ex_parked_ok(ex, h, kind, u, ex_parked_want(kind, u), NULL))
        ex_link_corrupt(ex, h, ex_body_link(h), kind, "a cache list");
    else
        parked_report(ex, h, kind, u, site);
}

__attribute__((ms_abi)) void ex_parked_corrupt(struct ex *ex, struct ex_cache_kind *ck,
                                               unsigned kind, unsigned u)
{
    struct ex_hdr *h = ck->list[u].head;
    ck->list[u].head = NULL; /* the blocks on it stay out of the pool */
    ck->list[u].count = 0;
    parked_fail(ex, h, kind, u, ((void **)(h + 1))[1]);
}

__attribute__((ms_abi)) void ex_cache_park(struct ex *ex, struct ex_cache *c)
{
    unsigned n = c->npend;
    c->npend = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t e = c->pend[i];
        unsigned kind = (unsigned)(e & ex_hdr_kind);
        ex_cache_push(ex, &c->kind[kind], (enum ex_kind)kind, ex_pend_hdr(e), (unsigned)(e >> 48),
                      c->pend_site[i]);
    }
}

static void park_all(struct ex *ex)
{
    for (unsigned i = 0; i < ex->ncaches; i++)
        if (ex->caches[i].npend)
            ex_cache_park(ex, &ex->caches[i]);
}

/* Checks the chain of parked blocks of u units from *head (a cache list,
 * or a depot batch, whose first block keeps the batch link where the
 * others keep the site of their free). Returns how many passed; the first
 * that did not is reported and cut off with the rest. */
static unsigned check_chain(struct ex *ex, struct ex_hdr **head, unsigned kind, unsigned u,
                            bool batch)
{
    unsigned n = 0;
    struct ex_hdr *prev = NULL;
    for (struct ex_hdr *h = *head; h;) {
        struct ex_hdr *next = ex_link_get(ex, *(void **)(h + 1));
        if (!ex_parked_ok(ex, h, kind, u, ex_parked_want(kind, u), next)) {
            if (prev)
                *(void **)(prev + 1) = ex_link_put(ex, NULL);
            else
                *head = NULL;
            parked_fail(ex, h, kind, u, batch && !prev ? NULL : ((void **)(h + 1))[1]);
            return n;
        }
        n++;
        prev = h;
        h = next;
    }
    return n;
}

/* A heap's remote stack (blocks of any size). */
static void check_remote(struct ex *ex, struct ex_heap *hp, unsigned kind)
{
    struct ex_hdr *prev = NULL;
    for (struct ex_hdr *h = hp->remote; h;) {
        struct ex_hdr *next = ex_link_get(ex, *(void **)(h + 1));
        unsigned u = hdr_size(h);
        if (!ex_parked_ok(ex, h, kind, u, ex_parked_want(kind, u), next)) {
            if (prev)
                *(void **)(prev + 1) = ex_link_put(ex, NULL);
            else
                hp->remote = NULL;
            parked_fail(ex, h, kind, u, ((void **)(h + 1))[1]);
            return;
        }
        prev = h;
        h = next;
    }
}

void ex_pool_check_parked(struct ex *ex)
{
    park_all(ex);
    for (unsigned k = 0; k < ex_kind_count; k++) {
        for (unsigned i = 0; i < ex_heaps; i++)
            check_remote(ex, &ex->heaps[i][k], k);
        for (unsigned u = 2; u < ex_max_page_units; u++) {
            for (unsigned i = 0; i < ex->ncaches; i++) {
                struct ex_clist *l = &ex->caches[i].kind[k].list[u];
                if (l->count)
                    l->count = (uint16_t)check_chain(ex, (struct ex_hdr **)&l->head, k, u, false);
            }
            for (unsigned i = 0; i < ex_heaps; i++) {
                struct ex_heap *hp = &ex->heaps[i][k];
                struct ex_hdr *prevb = NULL;
                for (struct ex_hdr *bt = hp->depot[u]; bt;) {
                    struct ex_hdr *nb = ex_link_get(ex, *batch_link(bt));
                    if (!ex_link_ok(ex, nb, k)) {
                        ex_link_corrupt(ex, bt, *batch_link(bt), k, "the depot");
                        *batch_link(bt) = ex_link_put(ex, NULL);
                        nb = NULL;
                    }
                    struct ex_hdr *first = bt;
                    check_chain(ex, &first, k, u, true);
                    if (!first) { /* its first block failed: the batch goes */
                        if (prevb)
                            *batch_link(prevb) = ex_link_put(ex, nb);
                        else
                            hp->depot[u] = nb;
                    } else {
                        prevb = bt;
                    }
                    bt = nb;
                }
            }
        }
    }
}

/* hp->lock held. A batch may hold blocks of other heaps' pages: heap_put. */
void ex_depot_consolidate(struct ex *ex, struct ex_heap *hp)
{
    unsigned kind = ex_heap_kind(ex, hp);
    for (unsigned u = 0; u < ex_max_page_units; u++) {
        while (hp->depot[u]) {
            struct ex_hdr *h = hp->depot[u], *nb;
            if (!batch_next(ex, hp, h, kind, &nb))
                nb = NULL; /* the later batches stay out of the pool */
            hp->depot[u] = nb;
            while (h) {
                struct ex_hdr *next;
                if (!chain_next(ex, hp, h, kind, &next))
                    next = NULL;
                ex_heap_put(ex, hp, h, kind);
                h = next;
            }
        }
    }
    hp->depot_bytes = 0;
}

void ex_pool_trim(struct ex *ex)
{
    park_all(ex);
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

