/*
 * src/ex/pool_heap.c - small pool blocks: pool pages and the central heaps
 * of each kind.
 *
 * Models: the legacy Windows pool page (spec/memory.md 4 internals): blocks
 * in 16-byte units chained by PreviousSize / BlockSize, split on
 * allocation and coalesced on free, never across a page boundary. Unit 0
 * of each page is a page header, so a page holds blocks of at most
 * page_units - 1 units, which is why requests above PAGE_SIZE - 32 bytes
 * go to big pool.
 *   page:  [page hdr][hdr|body ....][hdr|body ..][hdr| free ........]
 * The central heap keeps a free list per unit count and a bitmap of the
 * non-empty lists; allocation takes the smallest block that fits (best
 * fit, O(1) by bitmap scan) and splits off the rest. The caches and the
 * depot in front of it are pool_cache.c's. Each host slot has its own
 * heaps (the processors share heap 0), so the pages one host thread carves
 * are not another's and their records and headers stay in one core's
 * cache. A block that must be coalesced goes to its page's heap: under
 * that heap's lock, or, from under another heap's lock, onto its lock-free
 * remote stack, which the owner empties under its own lock (ex_heap_take,
 * ex_heap_trim).
 * Invariants: a block's type is 0 iff it is on a heap free list or is a
 * wholly free page on the empty list; parked blocks (caches, depot,
 * remote stacks) are busy, their page records saying they are not live,
 * and count as allocated for coalescing; their headers are checked when
 * they leave (ex_parked_ok, heap_neighbours_ok); a block is live iff its
 * page record lists it (ex.h: struct ex_prec); only the heap that owns a
 * page (its meta record's last byte) carves it or coalesces in it, under
 * its lock; every header of a block carries the cookie of its address and
 * size (a freed cache-aligned block's pad header does not: pool.c); next
 * block's prev == this block's size (ex_heap_give checks it before it
 * coalesces); links in freed blocks' bodies are keyed (ex_link_put).
 * Not modelled: pool descriptors per node, the segment heap of Windows 10
 * 2004+.
 */
#include <string.h>
#include <sys/mman.h>

#include "ex/pool_impl.h"
#include "sys.h"

#define hdr_at(p, units) ((struct ex_hdr *)((uint8_t *)(p) + (size_t)(units)*ex_unit))

const struct vf_rule ex_rule_freelist_corrupt = {
    .id = "pool.freelist-corrupt",
    .code = 0x19,
    .p1 = 0x3,
    .params = {"freed block", "the link found in it", "reserved"},
    .text = "a freed pool block's list link was overwritten (a write after free)",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/pool-freelist-corrupt"};

__attribute__((ms_abi)) void ex_link_corrupt(struct ex *ex, const void *h, const void *raw,
                                             unsigned kind, const char *where)
{
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
 * (ex_link_put). */

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
    unsigned kind = ex_heap_kind(ex, hp);
    struct ex_free *f = (struct ex_free *)(h + 1);
    struct ex_free *prev = ex_link_get(ex, f->prev), *next = ex_link_get(ex, f->next);
    bool ok = ex_link_ok(ex, prev ? (struct ex_hdr *)prev - 1 : NULL, kind) &&
              ex_link_ok(ex, next ? (struct ex_hdr *)next - 1 : NULL, kind) &&
              (prev ? ex_link_get(ex, prev->next) == f : hp->head[u] == f) &&
              (!next || ex_link_get(ex, next->prev) == f);
    if (__builtin_expect(!ok, 0)) {
        fl_drop(hp, u);
        ex_unlock(&hp->lock);
        ex_link_corrupt(ex, h, ex_body_link(h), kind, "a heap free list");
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

void ex_hdr_init(struct ex *ex, struct ex_hdr *h, unsigned prev, unsigned size, uint8_t type)
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
        ex_link_corrupt(ex, h, ex_body_link(h), kind, "the heap's empty pages");
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
        ex_hdr_init(ex, (struct ex_hdr *)page, 0, 1, (uint8_t)(ex_hdr_page | kind));
        ((struct ex_hdr *)page)->tag = 0x6c6f6f50; /* "Pool" */
        struct ex_hdr *h = hdr_at(page, 1);
        ex_hdr_init(ex, h, 1, ex->max_units, 0);
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

/* hp->lock held: the blocks other heaps gave back to hp's pages go to its
 * free lists. A push is one CAS on a stack only ever taken whole, so the
 * stack has no ABA problem. */
void ex_heap_drain_remote(struct ex *ex, struct ex_heap *hp)
{
    struct ex_hdr *h = __atomic_exchange_n((struct ex_hdr **)&hp->remote, NULL, __ATOMIC_ACQUIRE);
    unsigned kind = ex_heap_kind(ex, hp);
    while (h) {
        struct ex_hdr *next = ex_link_get(ex, *(void **)(h + 1));
        if (!ex_link_ok(ex, next, kind)) {
            ex_unlock(&hp->lock);
            ex_link_corrupt(ex, h, ex_body_link(h), kind, "a heap's remote stack");
            ex_lock(&hp->lock);
            next = NULL; /* the rest stays out of the pool */
        }
        ex_heap_give(ex, hp, h);
        h = next;
    }
}

/* hp->lock held: h (parked) goes back to the free lists of
 * the heap that owns its page, which is hp or another host slot's: then it
 * waits on that heap's remote stack, since only the owner coalesces (under
 * its lock) and taking a second lock here could deadlock. */
void ex_heap_put(struct ex *ex, struct ex_heap *hp, struct ex_hdr *h, enum ex_kind kind)
{
    struct ex_heap *o = ex_heap_owner(ex, h, kind);
    if (o == hp) {
        ex_heap_give(ex, hp, h);
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
struct ex_hdr *ex_heap_take(struct ex *ex, enum ex_kind kind, struct ex_heap *hp, unsigned u)
{
    if (__atomic_load_n(&hp->remote, __ATOMIC_RELAXED))
        ex_heap_drain_remote(ex, hp);
    int k = fl_find(hp, u, ex->max_units);
    struct ex_hdr *h;
    if (k < 0 && !hp->empty && hp->depot_bytes > (hp->pages << ex->page_shift) / ex_depot_hold) {
        ex_depot_consolidate(ex, hp);
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
            return ex_heap_take(ex, kind, hp, u); /* that list is dropped: look again */
    }
    if ((unsigned)k - u >= 2) {
        struct ex_hdr *rest = hdr_at(h, u);
        ex_hdr_init(ex, rest, u, (unsigned)k - u, 0);
        if (!ex_last_in_page(ex, rest))
            hdr_set_prev(hdr_at(rest, k - u), (unsigned)k - u);
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
    const struct ex_hdr *n = ex_last_in_page(ex, h) ? NULL : hdr_at(h, u);
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

void ex_heap_give(struct ex *ex, struct ex_heap *hp, struct ex_hdr *h)
{
    if (!heap_neighbours_ok(ex, hp, h))
        return;
    unsigned u = hdr_size(h);
    if (!ex_last_in_page(ex, h)) {
        struct ex_hdr *n = hdr_at(h, u);
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
    if (!ex_last_in_page(ex, h))
        hdr_set_prev(hdr_at(h, u), u);
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

/* ex_pool_trim's part: the blocks other heaps gave back, then the wholly
 * free pages beyond 16, which go back to mm. */
void ex_heap_trim(struct ex *ex, struct ex_heap *hp)
{
    unsigned kind = ex_heap_kind(ex, hp);
    ex_lock(&hp->lock);
    ex_heap_drain_remote(ex, hp);
    while (hp->nempty > 16 && hp->empty) {
        struct ex_hdr *h = hp->empty;
        struct ex_hdr *next = ex_link_get(ex, ((struct ex_free *)(h + 1))->next);
        if (!ex_link_ok(ex, next, kind)) {
            hp->empty = NULL; /* its pages stay out of the pool */
            hp->nempty = 0;
            ex_unlock(&hp->lock);
            ex_link_corrupt(ex, h, ex_body_link(h), kind, "the heap's empty pages");
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

/* ---- page records, init ---------------------------------------------------- */

__attribute__((ms_abi)) void ex_prec_to_bits(struct ex *ex, uint64_t idx, struct ex_prec *r)
{
    uint64_t *w = (uint64_t *)(ex->meta + (idx << ex->meta_shift));
    memset(w, 0, ex->page_units / 8);
    for (unsigned i = 0; i < r->live; i++)
        w[r->unit[i] >> 6] |= 1ULL << (r->unit[i] & 63);
    r->bits = 1;
}

/* Host memory for per-page records: reserved for the whole system space,
 * touched only where pool pages are. NULL when the host refuses. */
static void *map_records(size_t bytes)
{
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    madvise(m, bytes, MADV_HUGEPAGE);
    return m;
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
    ex->prec = map_records(ex->page_map_len * sizeof(struct ex_prec));
    /* bitmap + owner byte: 33 bytes with 4 KiB pages, 65 with 8 KiB */
    ex->meta_shift = ex->page_units > 256 ? 7 : 6;
    ex->meta = map_records(ex->page_map_len << ex->meta_shift);
    return ex->prec && ex->meta ? 0 : -1;
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
