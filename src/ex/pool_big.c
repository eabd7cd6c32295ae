/*
 * src/ex/pool_big.c - big pool: requests above PAGE_SIZE - 32 bytes.
 *
 * Models: Windows' big pool (spec/memory.md 4): whole pages, page-aligned,
 * no header in the block, tracked by address in a table (Windows'
 * PoolBigPageTable) with tag, size and type; so a 5 KiB request occupies
 * 8 KiB. Freed blocks of 1-4 pages are kept per kind (up to 32 each, in
 * host-side arrays) and handed out again before new pages are mapped: mapping a page is a host
 * system call, and a driver that allocates and frees page-sized buffers in
 * a loop should not pay one each time.
 * Each heap (the processors' and each host slot's) has its own table and
 * kept blocks: a block's first page's record byte (ex_page_heap) names
 * the table that holds it, so frees by another thread find it.
 * Invariants: the tables hold exactly the live big blocks; page_map says
 * ex_pm_big + kind on a live block's first page, ex_pm_big_tail on the
 * others, ex_pm_big_freed on a kept freed block's first page.
 * Not modelled: big pool frees that give back only part of the pages.
 */
#include <stdlib.h>
#include <string.h>

#include "ex/pool_impl.h"
#include "sys.h"

static inline uint64_t slot_of(uintptr_t va, uint64_t cap)
{
    return ((va >> 12) * 0x9E3779B97F4A7C15ULL) >> 20 & (cap - 1);
}

/* The table that holds the big block at va: the one its allocating heap
 * wrote in the first page's record byte (ex_page_heap) before the block
 * was handed out. */
static struct ex_bigtab *table_of(struct ex *ex, uintptr_t va)
{
    uint8_t id = __atomic_load_n(ex_page_heap(ex, ex_page_index(ex, (void *)va)), __ATOMIC_RELAXED);
    return &ex->bigtabs[id < ex_heaps ? id : 0];
}

/* t->lock held. */
static int table_grow(struct ex_bigtab *t)
{
    uint64_t cap = t->cap ? t->cap * 2 : 256;
    struct ex_big *n = calloc(cap, sizeof(*n));
    if (!n)
        return -1;
    for (uint64_t i = 0; i < t->cap; i++) {
        if (!t->big[i].va)
            continue;
        uint64_t s = slot_of(t->big[i].va, cap);
        while (n[s].va)
            s = (s + 1) & (cap - 1);
        n[s] = t->big[i];
    }
    free(t->big);
    t->big = n;
    t->cap = cap;
    return 0;
}

/* t->lock held. */
static struct ex_big *table_find(struct ex_bigtab *t, uintptr_t va)
{
    if (!t->cap)
        return NULL;
    for (uint64_t s = slot_of(va, t->cap); t->big[s].va; s = (s + 1) & (t->cap - 1))
        if (t->big[s].va == va)
            return &t->big[s];
    return NULL;
}

bool ex_big_lookup(struct ex *ex, uintptr_t va, struct ex_big *copy)
{
    struct ex_bigtab *t = table_of(ex, va);
    ex_lock(&t->lock);
    struct ex_big *b = table_find(t, va);
    if (b)
        *copy = *b;
    ex_unlock(&t->lock);
    return b != NULL;
}

void ex_big_foreach(struct ex *ex, void (*fn)(void *ctx, const struct ex_big *b), void *ctx)
{
    for (unsigned k = 0; k < ex_heaps; k++) {
        struct ex_bigtab *t = &ex->bigtabs[k];
        for (uint64_t i = 0; i < t->cap; i++)
            if (t->big[i].va)
                fn(ctx, &t->big[i]);
    }
}

/* Linear probing with backward-shift deletion: no tombstones. t->lock held. */
static void table_remove(struct ex_bigtab *t, struct ex_big *b)
{
    uint64_t cap = t->cap, i = (uint64_t)(b - t->big), j = i;
    for (;;) {
        j = (j + 1) & (cap - 1);
        if (!t->big[j].va)
            break;
        uint64_t home = slot_of(t->big[j].va, cap);
        /* move j back to i unless its home lies cyclically in (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            t->big[i] = t->big[j];
            i = j;
        }
    }
    memset(&t->big[i], 0, sizeof(t->big[i]));
    t->count--;
}

void *ex_big_alloc(struct ex *ex, const struct ex_req *r, unsigned heap)
{
    uint64_t pages = (r->bytes + ex->page_size - 1) >> ex->page_shift;
    if (pages > ex->sys->machine.pfn.nframes || pages > UINT32_MAX)
        return NULL;
    struct ex_bigtab *t = &ex->bigtabs[heap];
    uint8_t *va = NULL;
    ex_lock(&t->lock);
    if (pages <= 4 && t->nkept[r->kind][pages - 1])
        va = t->kept[r->kind][pages - 1][--t->nkept[r->kind][pages - 1]];
    if (!va) {
        ex_unlock(&t->lock);
        if (!(va = ex_pages_map(ex, r->kind, pages)))
            return NULL;
        ex_lock(&t->lock);
    }
    if ((t->count + 1) * 2 > t->cap && table_grow(t)) {
        ex_unlock(&t->lock);
        ex_pages_unmap(ex, va, pages);
        return NULL;
    }
    uint64_t s = slot_of((uintptr_t)va, t->cap);
    while (t->big[s].va)
        s = (s + 1) & (t->cap - 1);
    t->big[s] = (struct ex_big){.va = (uintptr_t)va,
                                .bytes = r->bytes,
                                .pages = (uint32_t)pages,
                                .tag = r->tag,
                                .owner = r->owner,
                                .kind = (uint8_t)r->kind,
                                .quota = r->quota};
    t->count++;
    __atomic_store_n(ex_page_heap(ex, ex_page_index(ex, va)), (uint8_t)heap, __ATOMIC_RELAXED);
    ex_pm_set(ex, va, 1, (uint8_t)(ex_pm_big + r->kind));
    if (pages > 1)
        ex_pm_set(ex, va + ex->page_size, pages - 1, ex_pm_big_tail);
    ex_unlock(&t->lock);
    return va;
}

void ex_big_free(struct ex *ex, uintptr_t addr)
{
    struct ex_bigtab *t = table_of(ex, addr);
    ex_lock(&t->lock);
    struct ex_big *b = table_find(t, addr);
    if (!b) {
        ex_unlock(&t->lock);
        return;
    }
    uint8_t *va = (uint8_t *)b->va;
    uint64_t pages = b->pages;
    enum ex_kind kind = b->kind;
    table_remove(t, b);
    if (pages <= 4 && t->nkept[kind][pages - 1] < ex_big_keep) {
        ex_pm_set(ex, va, pages, ex_pm_big_freed);
        t->kept[kind][pages - 1][t->nkept[kind][pages - 1]++] = va;
        ex_unlock(&t->lock);
        return;
    }
    ex_pm_set(ex, va, pages, ex_pm_none);
    ex_unlock(&t->lock);
    ex_pages_unmap(ex, va, pages);
}

int ex_big_init(struct ex *ex)
{
    ex->bigtabs = aligned_alloc(64, sizeof(*ex->bigtabs) * ex_heaps);
    if (!ex->bigtabs)
        return -1;
    memset(ex->bigtabs, 0, sizeof(*ex->bigtabs) * ex_heaps);
    return 0;
}

void ex_big_fini(struct ex *ex)
{
    for (unsigned k = 0; ex->bigtabs && k < ex_heaps; k++)
        free(ex->bigtabs[k].big);
    free(ex->bigtabs);
    ex->bigtabs = NULL;
}
