/*
 * src/ex/pool_heap.c - small pool blocks: pool pages, the central heaps of
 * each kind, and the per-processor caches in front of them.
 *
 * Models: the legacy Windows pool page (spec/memory.md 4 internals): blocks
 * in 16-byte units chained by PreviousSize / BlockSize, split on
 * allocation and coalesced on free, never across a page boundary. Unit 0
 * of each page is a page header, so a page holds blocks of at most
 * page_units - 1 units, which is why requests above PAGE_SIZE - 32 bytes
 * go to big pool.
 *   page:  [page hdr][hdr|body ....][hdr|body ..][hdr| free ........]
 * Requests are rounded to size classes (exact unit counts up to 1 KiB,
 * then ~6 % steps). The central heap keeps a free list per unit count and
 * a bitmap of the non-empty lists; allocation takes the smallest block
 * that fits (best fit, O(1) by bitmap scan) and splits off the rest. A
 * processor cache parks freed blocks LIFO by class (about 64 KiB per
 * class); a list that overflows gives its older half, as one batch, to
 * the heap's depot, and a list that runs dry takes a batch back from it,
 * each in O(1) under one lock round with no split and no coalescing. The
 * depot is free space not coalesced yet: when the heap would map a new
 * page and the depot holds more than 1/32 of its pages, it gives the
 * depot back to the free lists first, so it raises the pool by 3 % at most.
 * Each host slot's cache refills from its own heaps (the processors share
 * heap 0), so the pages one host thread carves are not another's and
 * their records and headers stay in one core's cache. A flushed batch
 * goes to the heap that owns its first block; a block that must be
 * coalesced goes to its page's heap: under that heap's lock, or, from
 * under another heap's lock, onto its lock-free remote stack, which the
 * owner empties under its own lock (heap_take, ex_pool_trim).
 *   free:  cache list (LIFO) -> depot batch -> free lists (coalesce)
 *   alloc: cache list -> depot batch -> free lists (best fit, split) -> new page
 * Invariants: a block's type is 0 iff it is on a heap free list or is a
 * wholly free page on the empty list; parked blocks (cache or depot) are
 * busy, their page records saying they are not live, and count as
 * allocated for coalescing, and their headers
 * are checked when they leave (ex_parked_ok, heap_neighbours_ok); a block
 * is live iff its page record lists it (ex.h: struct ex_prec); only the heap that owns a page (its
 * record's last byte) carves it or coalesces in it, under its lock; blocks on a remote stack are
 * parked; every header of a block carries the cookie of its address
 * (a freed cache-aligned block's pad header does not: pool.c); next
 * block's prev == this block's size (heap_give checks it before it
 * coalesces); a depot batch of u units holds batch_size(u) blocks.
 * Not modelled: Windows' per-size lookaside lists (the caches play their
 * role), pool descriptors per node, the segment heap of Windows 10 2004+.
 */
#include <string.h>
#include <sys/mman.h>

#include "ex/pool_impl.h"
#include "sys.h"

#define HDR_AT(p, units) ((struct ex_hdr *)((uint8_t *)(p) + (size_t)(units)*ex_unit))

const struct vf_rule ex_rule_freelist_corrupt = {
    .id = "pool.freelist-corrupt",
    .code = 0x19,
    .p1 = 0x3,
    .params = {"freed block", "the link found in it", "reserved"},
    .text = "a freed pool block's list link was overwritten (a write after free)",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/pool-freelist-corrupt"};

__attribute__((ms_abi)) void ex_link_corrupt(struct ex *ex, const void *h, unsigned kind,
                                             const char *where)
{
    const void *raw = *(void *const *)((const struct ex_hdr *)h + 1);
    vf_fire(&ex_rule_freelist_corrupt, (uint64_t)(uintptr_t)h,
            (uint64_t)(uintptr_t)ex_link_get(ex, raw), 0,
            "the %s pool block at %p (freed, on %s) holds %p where the pool keeps its list "
            "link: the block was written after it was freed",
            kind == ex_kind_paged ? "paged" : "nonpaged", h, where, raw);
}

/* ---- pages -------------------------------------------------------------- */

void ex_pm_set(struct ex *ex, const void *va, uint64_t n, uint8_t v)
{
    uint64_t idx = (uint64_t)((const uint8_t *)va - ex->sys->mm.system.base) >> ex->page_shift;
    if (idx + n > ex->page_map_len)
        return;
    memset(ex->page_map + idx, v, n);
    if (v == ex_pm_none)
        return;
    /* The heaps of several host slots (and the big pool) map pages at
     * once, each under its own lock: a plain update could lose the other's
     * range, and the leak listing would skip its pages. */
    uint64_t lo = __atomic_load_n(&ex->pm_lo, __ATOMIC_RELAXED);
    while (idx < lo && !__atomic_compare_exchange_n(&ex->pm_lo, &lo, idx, true, __ATOMIC_RELAXED,
                                                    __ATOMIC_RELAXED))
        ;
    uint64_t hi = __atomic_load_n(&ex->pm_hi, __ATOMIC_RELAXED);
    while (idx + n > hi && !__atomic_compare_exchange_n(&ex->pm_hi, &hi, idx + n, true,
                                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static unsigned pte_flags(enum ex_kind kind)
{
    unsigned f = mm_pte_write;
    if (kind == ex_kind_nonpaged)
        f |= mm_pte_exec;
    if (kind == ex_kind_paged)
        f |= mm_pte_pageable;
    return f;
}

/* Caller holds no pool lock but mm_lock is taken here: mm is not thread-safe. */
void *ex_pages_map(struct ex *ex, enum ex_kind kind, uint64_t n)
{
    struct mm *mm = &ex->sys->mm;
    struct pfn_db *db = &mm->machine->pfn;
    ex_lock(&ex->mm_lock);
    uint8_t *va = mm_va_reserve(mm, n);
    if (!va)
        goto fail;
    /* One run of frames is one host mapping (one VMA); scattered frames
     * would cost one VMA per page and the host allows ~65k. */
    uint64_t f = UINT64_MAX;
    if (n > 1) {
        f = pfn_alloc_run(db, n, db->zone_start[pfn_zone_high], db->nframes, 0);
        if (f == UINT64_MAX)
            f = pfn_alloc_run(db, n, db->zone_start[pfn_zone_dma32], db->nframes, 0);
    }
    if (f != UINT64_MAX) {
        if (mm_map_run(mm, va, f, n, pte_flags(kind))) {
            for (uint64_t k = 0; k < n; k++)
                pfn_free(db, f + k);
            mm_va_release(mm, va, n);
            goto fail;
        }
    } else {
        for (uint64_t k = 0; k < n; k++) {
            uint64_t fr = pfn_alloc(db, UINT64_MAX);
            if (fr == UINT64_MAX ||
                mm_map_page(mm, va + (k << ex->page_shift), fr, pte_flags(kind))) {
                if (fr != UINT64_MAX)
                    pfn_free(db, fr);
                mm_free_pages(mm, va, k);
                mm_va_release(mm, va + (k << ex->page_shift), n - k);
                goto fail;
            }
        }
    }
    ex->pages_mapped += n;
    if (ex->pages_mapped > ex->peak_pages)
        ex->peak_pages = ex->pages_mapped;
    ex_unlock(&ex->mm_lock);
    return va;
fail:
    ex_unlock(&ex->mm_lock);
    return NULL;
}

void ex_pages_unmap(struct ex *ex, void *va, uint64_t n)
{
    ex_lock(&ex->mm_lock);
    mm_free_pages(&ex->sys->mm, va, n);
    ex->pages_mapped -= n;
    ex_unlock(&ex->mm_lock);
}

/* ---- the central heap (hp->lock held) ------------------------------------- */

/* The heaps' free lists are doubly linked through the free blocks' bodies
 * (ex_link_put). hp's kind, for the link checks. */
static inline unsigned heap_kind(const struct ex *ex, const struct ex_heap *hp)
{
    return (unsigned)(hp - ex->heaps[hp->id]);
}

static void fl_push(struct ex *ex, struct ex_heap *hp, struct ex_hdr *h, unsigned u)
{
    struct ex_free *f = (struct ex_free *)(h + 1);
    struct ex_free *old = hp->head[u];
    f->prev = ex_link_put(ex, NULL);
    f->next = ex_link_put(ex, old);
    if (old)
        old->prev = ex_link_put(ex, f);
    hp->head[u] = f;
    hp->nonempty[u >> 6] |= 1ULL << (u & 63);
}

/* Drops the free list of u (its blocks stay out of the pool) after a
 * report. */
static void fl_drop(struct ex_heap *hp, unsigned u)
{
    hp->head[u] = NULL;
    hp->nonempty[u >> 6] &= ~(1ULL << (u & 63));
}

/* Takes h off the free list of u; false, after a report (hp->lock is
 * dropped for it) and with the list dropped, when a link of h or its
 * neighbours was overwritten. */
static bool fl_remove(struct ex *ex, struct ex_heap *hp, struct ex_hdr *h, unsigned u)
{
    unsigned kind = heap_kind(ex, hp);
    struct ex_free *f = (struct ex_free *)(h + 1);
    struct ex_free *prev = ex_link_get(ex, f->prev), *next = ex_link_get(ex, f->next);
    bool ok = ex_link_ok(ex, prev ? (struct ex_hdr *)prev - 1 : NULL, kind) &&
              ex_link_ok(ex, next ? (struct ex_hdr *)next - 1 : NULL, kind) &&
              (prev ? ex_link_get(ex, prev->next) == f : hp->head[u] == f) &&
              (!next || ex_link_get(ex, next->prev) == f);
    if (__builtin_expect(!ok, 0)) {
        fl_drop(hp, u);
        ex_unlock(&hp->lock);
        ex_link_corrupt(ex, h, kind, "a heap free list");
        ex_lock(&hp->lock);
        return false;
    }
    if (prev)
        prev->next = ex_link_put(ex, next);
    else if (!(hp->head[u] = next))
        hp->nonempty[u >> 6] &= ~(1ULL << (u & 63));
    if (next)
        next->prev = ex_link_put(ex, prev);
    return true;
}

static int fl_find(const struct ex_heap *hp, unsigned u, unsigned max_units)
{
    unsigned w = u >> 6;
    uint64_t bits = hp->nonempty[w] & (~0ULL << (u & 63));
    while (!bits) {
        if (++w > (max_units >> 6))
            return -1;
        bits = hp->nonempty[w];
    }
    return (int)(w * 64 + (unsigned)__builtin_ctzll(bits));
}

static void hdr_init(struct ex *ex, struct ex_hdr *h, unsigned prev, unsigned size, uint8_t type)
{
    h->index = 0;
    hdr_set_prev(h, prev);
    hdr_set_size(ex, h, size);
    h->type = type;
    h->tag = 0;
    h->owner = 0;
    h->slack = 0;
    h->cookie = hdr_cookie(ex, h);
}

static inline bool last_in_page(const struct ex *ex, const struct ex_hdr *h)
{
    unsigned off = (unsigned)(((uintptr_t)h & (ex->page_size - 1)) >> 4);
    return off + hdr_size(h) >= ex->page_units;
}

/* A wholly free page's one free block, not on any list. */
static struct ex_hdr *heap_new_page(struct ex *ex, enum ex_kind kind, struct ex_heap *hp)
{
    if (hp->empty) {
        struct ex_hdr *h = hp->empty;
        struct ex_hdr *next = ex_link_get(ex, ((struct ex_free *)(h + 1))->next);
        if (ex_link_ok(ex, next, kind)) {
            hp->empty = next;
            hp->nempty--;
            return h;
        }
        hp->empty = NULL; /* its pages stay out of the pool */
        hp->nempty = 0;
        ex_unlock(&hp->lock);
        ex_link_corrupt(ex, h, kind, "the heap's empty pages");
        ex_lock(&hp->lock);
    }
    /* Grow by 16 pages at a time: one mapping, one lock round. */
    enum { grow = 16 };
    uint8_t *va = ex_pages_map(ex, kind, grow);
    uint64_t n = grow;
    if (!va) {
        va = ex_pages_map(ex, kind, 1);
        n = 1;
    }
    if (!va)
        return NULL;
    if (!(__atomic_load_n(&ex->carvers[kind], __ATOMIC_RELAXED) & (1u << hp->id)))
        __atomic_or_fetch(&ex->carvers[kind], (uint16_t)(1u << hp->id), __ATOMIC_RELAXED);
    ex_pm_set(ex, va, n, (uint8_t)(ex_pm_small + kind));
    hp->pages += n;
    struct ex_hdr *first = NULL;
    uint64_t idx = ex_page_index(ex, va);
    for (uint64_t k = 0; k < n; k++) {
        uint8_t *page = va + (k << ex->page_shift);
        __atomic_store_n(ex_page_heap(ex, idx + k), hp->id, __ATOMIC_RELAXED);
        hdr_init(ex, (struct ex_hdr *)page, 0, 1, (uint8_t)(ex_hdr_page | kind));
        ((struct ex_hdr *)page)->tag = 0x6c6f6f50; /* "Pool" */
        struct ex_hdr *h = HDR_AT(page, 1);
        hdr_init(ex, h, 1, ex->max_units, 0);
        if (!first) {
            first = h;
        } else {
            ((struct ex_free *)(h + 1))->next = ex_link_put(ex, hp->empty);
            hp->empty = h;
            hp->nempty++;
        }
    }
    return first;
}

static void depot_consolidate(struct ex *ex, struct ex_heap *hp);
static void heap_give(struct ex *ex, struct ex_heap *hp, struct ex_hdr *h);

/* The heap that owns h's page. The one heap that carves pages of kind
 * (deterministic mode; a producer whose consumer only frees) owns them
 * all: then the page record, likely in another core's cache, is not read.
 * A heap sets its bit before any block of its pages exists, and a block
 * reaches another thread after its allocation, so that thread sees it. */
static inline struct ex_heap *heap_owner(struct ex *ex, const struct ex_hdr *h, enum ex_kind kind)
{
    unsigned m = __atomic_load_n(&ex->carvers[kind], __ATOMIC_RELAXED);
    if (m && !(m & (m - 1)))
        return &ex->heaps[__builtin_ctz(m)][kind];
    uint8_t id = __atomic_load_n(ex_page_heap(ex, ex_page_index(ex, h)), __ATOMIC_RELAXED);
    return &ex->heaps[id < ex_heaps ? id : 0][kind];
}

/* hp->lock held: the blocks other heaps gave back to hp's pages go to its
 * free lists. A push is one CAS on a stack only ever taken whole, so the
 * stack has no ABA problem. */
static void heap_drain_remote(struct ex *ex, struct ex_heap *hp)
{
    struct ex_hdr *h = __atomic_exchange_n((struct ex_hdr **)&hp->remote, NULL, __ATOMIC_ACQUIRE);
    unsigned kind = heap_kind(ex, hp);
    while (h) {
        struct ex_hdr *next = ex_link_get(ex, *(void **)(h + 1));
        if (!ex_link_ok(ex, next, kind)) {
            ex_unlock(&hp->lock);
            ex_link_corrupt(ex, h, kind, "a heap's remote stack");
            ex_lock(&hp->lock);
            next = NULL; /* the rest stays out of the pool */
        }
        heap_give(ex, hp, h);
        h = next;
    }
}

/* hp->lock held: h (parked) goes back to the free lists of
 * the heap that owns its page, which is hp or another host slot's: then it
 * waits on that heap's remote stack, since only the owner coalesces (under
 * its lock) and taking a second lock here could deadlock. */
static void heap_put(struct ex *ex, struct ex_heap *hp, struct ex_hdr *h, enum ex_kind kind)
{
    struct ex_heap *o = heap_owner(ex, h, kind);
    if (o == hp) {
        heap_give(ex, hp, h);
        return;
    }
    void *top = __atomic_load_n(&o->remote, __ATOMIC_RELAXED);
    do
        *(void **)(h + 1) = ex_link_put(ex, top);
    while (!__atomic_compare_exchange_n(&o->remote, &top, h, true, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED));
}

/* A block of at least u units, split, type left for the caller. Before it
 * takes a new page it gives the depot's batches back to the free lists
 * when they hold more than 1/ex_depot_hold of the heap's pages: the depot
 * is free space that has not been coalesced yet, so it may raise the pages
 * held by that much (3 %), and in exchange its batches live long enough to
 * meet the refills they are for. Consolidating at every miss (the first
 * design) gave back ~400 blocks one by one every ~5000 random-size
 * operations, each touching its neighbours. */
enum { ex_depot_hold = 32 };
static struct ex_hdr *heap_take(struct ex *ex, enum ex_kind kind, struct ex_heap *hp, unsigned u)
{
    if (__atomic_load_n(&hp->remote, __ATOMIC_RELAXED))
        heap_drain_remote(ex, hp);
    int k = fl_find(hp, u, ex->max_units);
    struct ex_hdr *h;
    if (k < 0 && !hp->empty && hp->depot_bytes > (hp->pages << ex->page_shift) / ex_depot_hold) {
        depot_consolidate(ex, hp);
        k = fl_find(hp, u, ex->max_units);
    }
    if (k < 0) {
        h = heap_new_page(ex, kind, hp);
        if (!h)
            return NULL;
        k = (int)ex->max_units;
    } else {
        h = (struct ex_hdr *)hp->head[k] - 1;
        if (!fl_remove(ex, hp, h, (unsigned)k))
            return heap_take(ex, kind, hp, u); /* that list is dropped: look again */
    }
    if ((unsigned)k - u >= 2) {
        struct ex_hdr *rest = HDR_AT(h, u);
        hdr_init(ex, rest, u, (unsigned)k - u, 0);
        if (!last_in_page(ex, rest))
            hdr_set_prev(HDR_AT(rest, k - u), (unsigned)k - u);
        fl_push(ex, hp, rest, (unsigned)k - u);
        hdr_set_size(ex, h, u);
    }
    return h;
}

/* Before coalescing, h's neighbours must agree with it (next's prev is
 * h's size, the block prev units back is that long): a one-byte overrun
 * of the block before h rewrites h's PreviousSize and leaves its cookie,
 * and "the block before" would then be bytes of a live block's body, put
 * on a free list. The stop drops hp->lock first. */
static bool heap_neighbours_ok(struct ex *ex, struct ex_heap *hp, struct ex_hdr *h)
{
    unsigned u = hdr_size(h), unit = (unsigned)(((uintptr_t)h & (ex->page_size - 1)) >> 4);
    const struct ex_hdr *p = (const struct ex_hdr *)((uint8_t *)h - (size_t)hdr_prev(h) * ex_unit);
    const struct ex_hdr *n = last_in_page(ex, h) ? NULL : HDR_AT(h, u);
    /* h's own header was not read when it was parked; prev within the
     * page before p is read */
    if (h->cookie == hdr_cookie(ex, h) && ex_hdr_fits(ex, h) && hdr_prev(h) - 1 < unit &&
        p->cookie == hdr_cookie(ex, p) && hdr_size(p) == hdr_prev(h) &&
        (!n || (n->cookie == hdr_cookie(ex, n) && hdr_prev(n) == u)))
        return true;
    ex_unlock(&hp->lock);
    vf_fire(&ex_rule_header_corrupt, (uint64_t)(uintptr_t)h, (uint64_t)(uintptr_t)n, 0,
            "the pool header at %p (%u units, previous %u) does not match its neighbours' "
            "(at %p and %p): a block before it was overrun",
            (void *)h, u, hdr_prev(h), (const void *)p, (const void *)n);
    ex_lock(&hp->lock);
    return false; /* the block stays out of the pool */
}

static void heap_give(struct ex *ex, struct ex_heap *hp, struct ex_hdr *h)
{
    if (!heap_neighbours_ok(ex, hp, h))
        return;
    unsigned u = hdr_size(h);
    if (!last_in_page(ex, h)) {
        struct ex_hdr *n = HDR_AT(h, u);
        unsigned nu = hdr_size(n);
        if (n->type == 0 && fl_remove(ex, hp, n, nu)) {
            n->cookie = ~hdr_cookie(ex, n); /* no longer a header */
            u += nu;
        }
    }
    struct ex_hdr *p = (struct ex_hdr *)((uint8_t *)h - (size_t)hdr_prev(h) * ex_unit);
    if (p->type == 0 && fl_remove(ex, hp, p, hdr_size(p))) {
        u += hdr_size(p);
        h->cookie = ~hdr_cookie(ex, h);
        h = p;
    }
    hdr_set_size(ex, h, u);
    h->type = 0;
    h->tag = 0;
    if (!last_in_page(ex, h))
        hdr_set_prev(HDR_AT(h, u), u);
    if (u == ex->max_units) {
        /* Keep some wholly free pages; give the rest back to mm. */
        if (hp->nempty < 64 + hp->pages / 8) {
            ((struct ex_free *)(h + 1))->next = ex_link_put(ex, hp->empty);
            hp->empty = h;
            hp->nempty++;
        } else {
            void *page = (uint8_t *)h - ex_unit;
            ex_pm_set(ex, page, 1, ex_pm_none);
            hp->pages--;
            ex_pages_unmap(ex, page, 1);
        }
        return;
    }
    fl_push(ex, hp, h, u);
}

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

/* The block after h on a cache list or a batch (link decoded and checked):
 * false, after a report, when the link was overwritten. No heap lock may
 * be held (the report may stop the machine). */
static bool chain_next(struct ex *ex, const struct ex_hdr *h, unsigned kind, struct ex_hdr **next)
{
    struct ex_hdr *n = ex_link_get(ex, *(void *const *)(h + 1));
    if (__builtin_expect(ex_link_ok(ex, n, kind), 1)) {
        *next = n;
        return true;
    }
    ex_link_corrupt(ex, h, kind, "a cache list");
    return false;
}

/* The same under hp->lock, which the report drops and takes again. */
static bool chain_next_locked(struct ex *ex, struct ex_heap *hp, const struct ex_hdr *h,
                              unsigned kind, struct ex_hdr **next)
{
    struct ex_hdr *n = ex_link_get(ex, *(void *const *)(h + 1));
    if (__builtin_expect(ex_link_ok(ex, n, kind), 1)) {
        *next = n;
        return true;
    }
    ex_unlock(&hp->lock);
    ex_link_corrupt(ex, h, kind, "a cache list");
    ex_lock(&hp->lock);
    return false;
}

/* The depot batch after first, under hp->lock (as chain_next_locked). */
static bool batch_next_locked(struct ex *ex, struct ex_heap *hp, struct ex_hdr *first,
                              unsigned kind, struct ex_hdr **next)
{
    struct ex_hdr *n = ex_link_get(ex, *batch_link(first));
    if (__builtin_expect(ex_link_ok(ex, n, kind), 1)) {
        *next = n;
        return true;
    }
    ex_unlock(&hp->lock);
    ex_link_corrupt(ex, first, kind, "the depot");
    ex_lock(&hp->lock);
    return false;
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
    if (h && !batch_next_locked(ex, hp, h, kind, &nb))
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
    struct ex_hdr *first = heap_take(ex, kind, hp, u);
    /* Not free any more before the lock drops: another host thread's
     * coalescing would otherwise take it for a free neighbour. */
    if (first)
        first->type = (uint8_t)(ex_hdr_busy | kind);
    for (unsigned i = 1; first && i < batch; i++) {
        h = heap_take(ex, kind, hp, u);
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
        if (!chain_next(ex, h, kind, &next))
            next = NULL; /* the rest stays out of the pool */
        l->head = next;
        l->count--;
        struct ex_heap *hp = heap_owner(ex, h, kind);
        ex_lock(&hp->lock);
        heap_give(ex, hp, h);
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
        if (!chain_next(ex, cut, kind, &cut))
            cut = NULL;
    if (!cut || !chain_next(ex, cut, kind, &rest) || !rest) {
        /* a link was overwritten (reported), or the list is shorter than
         * its count after one was: it stays out of the pool */
        l->head = NULL;
        l->count = 0;
        return;
    }
    unsigned n = l->count - keep;
    *(void **)(cut + 1) = ex_link_put(ex, NULL);
    l->count = (uint16_t)keep;
    struct ex_heap *hp = heap_owner(ex, rest, kind);
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
        if (!chain_next_locked(ex, hp, h, kind, &rest))
            rest = NULL;
        heap_put(ex, hp, h, kind);
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
        hdr_init(ex, pad, (unsigned)(((uint8_t *)pad - (uint8_t *)h) / ex_unit), 0,
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
            (uint64_t)(uintptr_t)HDR_AT(h, hdr_size(h)), 0,
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
        ex_link_corrupt(ex, h, kind, "a cache list");
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
                        ex_link_corrupt(ex, bt, k, "the depot");
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
static void depot_consolidate(struct ex *ex, struct ex_heap *hp)
{
    unsigned kind = heap_kind(ex, hp);
    for (unsigned u = 0; u < ex_max_page_units; u++) {
        while (hp->depot[u]) {
            struct ex_hdr *h = hp->depot[u], *nb;
            if (!batch_next_locked(ex, hp, h, kind, &nb))
                nb = NULL; /* the later batches stay out of the pool */
            hp->depot[u] = nb;
            while (h) {
                struct ex_hdr *next;
                if (!chain_next_locked(ex, hp, h, kind, &next))
                    next = NULL;
                heap_put(ex, hp, h, kind);
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
            depot_consolidate(ex, hp);
            ex_unlock(&hp->lock);
        }
    for (unsigned i = 0; i < ex_heaps * ex_kind_count; i++) {
        struct ex_heap *hp = &ex->heaps[i / ex_kind_count][i % ex_kind_count];
        ex_lock(&hp->lock);
        heap_drain_remote(ex, hp);
        while (hp->nempty > 16 && hp->empty) {
            struct ex_hdr *h = hp->empty;
            struct ex_hdr *next = ex_link_get(ex, ((struct ex_free *)(h + 1))->next);
            if (!ex_link_ok(ex, next, (unsigned)(i % ex_kind_count))) {
                hp->empty = NULL; /* its pages stay out of the pool */
                hp->nempty = 0;
                ex_unlock(&hp->lock);
                ex_link_corrupt(ex, h, i % ex_kind_count, "the heap's empty pages");
                ex_lock(&hp->lock);
                break;
            }
            hp->empty = next;
            hp->nempty--;
            void *page = (uint8_t *)h - ex_unit;
            ex_pm_set(ex, page, 1, ex_pm_none);
            hp->pages--;
            ex_pages_unmap(ex, page, 1);
        }
        ex_unlock(&hp->lock);
    }
}

/* ---- checking a pointer handed to ExFreePool ------------------------------- */

/* Walks p's page from its header to classify a pointer whose header does
 * not check out; every path ends in a rule (stops) or returns NULL. */
static struct ex_hdr *classify_slow(struct ex *ex, void *p)
{
    uint8_t *page = (uint8_t *)((uintptr_t)p & ~(uintptr_t)(ex->page_size - 1));
    unsigned off = 1;
    struct ex_hdr *h = HDR_AT(page, 1);
    while (off < ex->page_units) {
        unsigned u = hdr_size(h);
        if (u == 0 || off + u > ex->page_units || h->cookie != hdr_cookie(ex, h)) {
            vf_fire(&ex_rule_header_corrupt, (uint64_t)(uintptr_t)h,
                    (uint64_t)(uintptr_t)HDR_AT(h, u), 0,
                    "the pool header at %p (block size %u units) is corrupt: a block before it "
                    "was overrun [freeing %p]",
                    (void *)h, u, p);
            return NULL;
        }
        uint8_t *lo = (uint8_t *)h, *hi = (uint8_t *)HDR_AT(h, u);
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
        h = HDR_AT(h, u);
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
        struct ex_hdr *h = HDR_AT(page, 1);
        while (off < ex->page_units) {
            unsigned u = hdr_size(h);
            if (u == 0 || off + u > ex->page_units)
                break; /* corrupt: the free path reports it */
            if ((h->type & ex_hdr_busy) && ex_hdr_live(ex, h)) {
                uint8_t *body = (uint8_t *)(h + 1);
                fn(ctx, h, body);
            }
            off += u;
            h = HDR_AT(h, u);
        }
    }
}

__attribute__((ms_abi)) void ex_prec_to_bits(struct ex *ex, uint64_t idx, struct ex_prec *r)
{
    uint64_t *w = (uint64_t *)(ex->meta + (idx << ex->meta_shift));
    memset(w, 0, ex->page_units / 8);
    for (unsigned i = 0; i < r->live; i++)
        w[r->unit[i] >> 6] |= 1ULL << (r->unit[i] & 63);
    r->bits = 1;
}

int ex_heap_init(struct ex *ex)
{
    ex->page_map_len = ex->sys->mm.system.npages;
    void *m = mmap(NULL, ex->page_map_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    ex->page_map = m;
    ex->pm_lo = UINT64_MAX; /* no page yet: [pm_lo, pm_hi) empty */
    ex->pm_hi = 0;
    /* Every free reads its page's record, on huge pages to keep those
     * reads off the TLB's back (the blocks themselves are spread over the
     * pool). A list of live units needs them to fit a byte. */
    ex->prec_cap = ex->page_units <= 256 ? ex_prec_list : 0;
    size_t bytes = ex->page_map_len * sizeof(struct ex_prec);
    m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
             0);
    if (m == MAP_FAILED)
        return -1;
    madvise(m, bytes, MADV_HUGEPAGE);
    ex->prec = m;
    /* bitmap + owner byte: 33 bytes with 4 KiB pages, 65 with 8 KiB */
    ex->meta_shift = ex->page_units > 256 ? 7 : 6;
    bytes = ex->page_map_len << ex->meta_shift;
    m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
             0);
    if (m == MAP_FAILED)
        return -1;
    madvise(m, bytes, MADV_HUGEPAGE);
    ex->meta = m;
    return 0;
}

void ex_heap_fini(struct ex *ex)
{
    if (ex->page_map)
        munmap(ex->page_map, ex->page_map_len);
    if (ex->prec)
        munmap(ex->prec, ex->page_map_len * sizeof(struct ex_prec));
    if (ex->meta)
        munmap(ex->meta, ex->page_map_len << ex->meta_shift);
    ex->page_map = NULL;
    ex->prec = NULL;
    ex->meta = NULL;
}
