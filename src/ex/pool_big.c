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
 * Invariants: the table holds exactly the live big blocks; page_map says
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

/* big_lock held. */
static int table_grow(struct ex *ex)
{
    uint64_t cap = ex->big_cap ? ex->big_cap * 2 : 256;
    struct ex_big *t = calloc(cap, sizeof(*t));
    if (!t)
        return -1;
    for (uint64_t i = 0; i < ex->big_cap; i++) {
        if (!ex->big[i].va)
            continue;
        uint64_t s = slot_of(ex->big[i].va, cap);
        while (t[s].va)
            s = (s + 1) & (cap - 1);
        t[s] = ex->big[i];
    }
    free(ex->big);
    ex->big = t;
    ex->big_cap = cap;
    return 0;
}

/* big_lock held. */
static struct ex_big *table_find(struct ex *ex, uintptr_t va)
{
    struct ex_big *found = NULL;
    if (ex->big_cap) {
        uint64_t s = slot_of(va, ex->big_cap);
        while (ex->big[s].va) {
            if (ex->big[s].va == va) {
                found = &ex->big[s];
                break;
            }
            s = (s + 1) & (ex->big_cap - 1);
        }
    }
    return found;
}

bool ex_big_lookup(struct ex *ex, uintptr_t va, struct ex_big *copy)
{
    ex_lock(&ex->big_lock);
    struct ex_big *b = table_find(ex, va);
    if (b)
        *copy = *b;
    ex_unlock(&ex->big_lock);
    return b != NULL;
}

void ex_big_foreach(struct ex *ex, void (*fn)(void *ctx, const struct ex_big *b), void *ctx)
{
    for (uint64_t i = 0; i < ex->big_cap; i++)
        if (ex->big[i].va)
            fn(ctx, &ex->big[i]);
}

/* Linear probing with backward-shift deletion: no tombstones. big_lock held. */
static void table_remove(struct ex *ex, struct ex_big *b)
{
    uint64_t cap = ex->big_cap, i = (uint64_t)(b - ex->big), j = i;
    for (;;) {
        j = (j + 1) & (cap - 1);
        if (!ex->big[j].va)
            break;
        uint64_t home = slot_of(ex->big[j].va, cap);
        /* move j back to i unless its home lies cyclically in (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            ex->big[i] = ex->big[j];
            i = j;
        }
    }
    memset(&ex->big[i], 0, sizeof(ex->big[i]));
    ex->big_count--;
}

void *ex_big_alloc(struct ex *ex, const struct ex_req *r)
{
    uint64_t pages = (r->bytes + ex->page_size - 1) >> ex->page_shift;
    if (pages > ex->sys->machine.pfn.nframes || pages > UINT32_MAX)
        return NULL;
    uint8_t *va = NULL;
    ex_lock(&ex->big_lock);
    if (pages <= 4 && ex->big_nfree[r->kind][pages - 1])
        va = ex->big_free[r->kind][pages - 1][--ex->big_nfree[r->kind][pages - 1]];
    ex_unlock(&ex->big_lock);
    if (!va && !(va = ex_pages_map(ex, r->kind, pages)))
        return NULL;
    ex_lock(&ex->big_lock);
    if ((ex->big_count + 1) * 2 > ex->big_cap && table_grow(ex)) {
        ex_unlock(&ex->big_lock);
        ex_pages_unmap(ex, va, pages);
        return NULL;
    }
    uint64_t s = slot_of((uintptr_t)va, ex->big_cap);
    while (ex->big[s].va)
        s = (s + 1) & (ex->big_cap - 1);
    ex->big[s] = (struct ex_big){.va = (uintptr_t)va,
                                 .bytes = r->bytes,
                                 .pages = (uint32_t)pages,
                                 .tag = r->tag,
                                 .owner = r->owner,
                                 .kind = (uint8_t)r->kind,
                                 .quota = r->quota};
    ex->big_count++;
    ex_pm_set(ex, va, 1, (uint8_t)(ex_pm_big + r->kind));
    if (pages > 1)
        ex_pm_set(ex, va + ex->page_size, pages - 1, ex_pm_big_tail);
    ex_unlock(&ex->big_lock);
    return va;
}

void ex_big_free(struct ex *ex, uintptr_t addr)
{
    ex_lock(&ex->big_lock);
    struct ex_big *b = table_find(ex, addr);
    if (!b) {
        ex_unlock(&ex->big_lock);
        return;
    }
    uint8_t *va = (uint8_t *)b->va;
    uint64_t pages = b->pages;
    enum ex_kind kind = b->kind;
    table_remove(ex, b);
    if (pages <= 4 && ex->big_nfree[kind][pages - 1] < ex_big_keep) {
        ex_pm_set(ex, va, pages, ex_pm_big_freed);
        ex->big_free[kind][pages - 1][ex->big_nfree[kind][pages - 1]++] = va;
        ex_unlock(&ex->big_lock);
        return;
    }
    ex_pm_set(ex, va, pages, ex_pm_none);
    ex_unlock(&ex->big_lock);
    ex_pages_unmap(ex, va, pages);
}

void ex_big_fini(struct ex *ex)
{
    free(ex->big);
    ex->big = NULL;
    ex->big_cap = ex->big_count = 0;
}
