/*
 * src/mm/user_heap.c - the process heap behind an app's malloc/free.
 *
 * Models: the default process heap (HeapAlloc on GetProcessHeap): blocks
 * inside the process's user space, so a malloc'ed buffer is a user address
 * that probes, MDLs and METHOD_NEITHER accept, and that faults from a DPC.
 * Blocks are 16-byte aligned, carved first-fit from 256 KiB chunks
 * committed with mm_user_alloc; blocks of 64 KiB and more get their own
 * pages. The block list is host memory: an app's overrun cannot corrupt
 * it, and free() of a bad pointer is detected (returns 0).
 * Invariants: blocks of a chunk tile it in address order; no two adjacent
 * free blocks (free merges).
 * Not modelled: heap corruption checks in the block tails, HeapCreate.
 */
#include <stdlib.h>
#include <string.h>

#include "mm/mm.h"

enum { chunk_bytes = 256 * 1024, big_bytes = 64 * 1024, align = 16 };

struct heap_block {
    uint8_t *va;
    uint64_t size;           /* bytes it spans (rounded) */
    uint64_t used;           /* bytes asked for; 0 = free */
    bool big;                /* its own mm_user_alloc */
    struct heap_block *next; /* address order within the heap */
};

struct mm_user_heap {
    struct heap_block *blocks;
};

static struct mm_user_heap *heap_of(struct mm_user_space *u)
{
    if (!u->heap)
        u->heap = calloc(1, sizeof(*u->heap));
    return u->heap;
}

static struct heap_block *add_block(struct mm_user_heap *h, uint8_t *va, uint64_t size, bool big)
{
    struct heap_block *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->va = va;
    b->size = size;
    b->big = big;
    b->next = h->blocks;
    h->blocks = b;
    return b;
}

void *mm_user_heap_alloc(struct mm *mm, struct mm_user_space *u, uint64_t bytes)
{
    struct mm_user_heap *h = heap_of(u);
    if (!h)
        return NULL;
    uint64_t need = (bytes + align - 1) & ~(uint64_t)(align - 1);
    if (!need)
        need = align;
    if (need >= big_bytes) {
        uint8_t *va = mm_user_alloc(mm, u, need);
        struct heap_block *b = va ? add_block(h, va, need, true) : NULL;
        if (!b)
            return NULL;
        b->used = bytes ? bytes : 1;
        return va;
    }
    struct heap_block *b = h->blocks;
    while (b && (b->big || b->used || b->size < need))
        b = b->next;
    if (!b) {
        uint8_t *va = mm_user_alloc(mm, u, chunk_bytes);
        b = va ? add_block(h, va, chunk_bytes, false) : NULL;
        if (!b)
            return NULL;
    }
    if (b->size - need >= align) {
        /* Split: the tail stays free, just after b. */
        struct heap_block *t = calloc(1, sizeof(*t));
        if (t) {
            t->va = b->va + need;
            t->size = b->size - need;
            t->next = b->next;
            b->next = t;
            b->size = need;
        }
    }
    b->used = bytes ? bytes : 1;
    return b->va;
}

uint64_t mm_user_heap_free(struct mm *mm, struct mm_user_space *u, void *p)
{
    struct mm_user_heap *h = u->heap;
    if (!h)
        return 0;
    for (struct heap_block **pp = &h->blocks; *pp; pp = &(*pp)->next) {
        struct heap_block *b = *pp;
        if (b->va != p || !b->used)
            continue;
        uint64_t n = b->used;
        if (b->big) {
            *pp = b->next;
            mm_user_free(mm, u, b->va);
            free(b);
            return n;
        }
        b->used = 0;
        /* Merge with the next block when it is free and contiguous. */
        struct heap_block *nx = b->next;
        if (nx && !nx->used && !nx->big && nx->va == b->va + b->size) {
            b->size += nx->size;
            b->next = nx->next;
            free(nx);
        }
        /* And with the previous one. */
        for (struct heap_block *q = h->blocks; q; q = q->next) {
            if (q->next == b && !q->used && !q->big && q->va + q->size == b->va) {
                q->size += b->size;
                q->next = b->next;
                free(b);
                break;
            }
        }
        return n;
    }
    return 0;
}

uint64_t mm_user_heap_size(struct mm_user_space *u, const void *p)
{
    if (!u->heap)
        return 0;
    for (struct heap_block *b = u->heap->blocks; b; b = b->next)
        if (b->va == p && b->used)
            return b->used;
    return 0;
}

/* The pages go with the space (user.c frees every run). */
void mm_user_heap_fini(struct mm_user_space *u)
{
    if (!u->heap)
        return;
    while (u->heap->blocks) {
        struct heap_block *b = u->heap->blocks;
        u->heap->blocks = b->next;
        free(b);
    }
    free(u->heap);
    u->heap = NULL;
}
