/*
 * src/mm/space.c - address spaces: reserved host regions, PTEs, mappings.
 *
 * Models: the system address space of spec/memory.md 2: a region of host
 * address space reserved PROT_NONE at boot; a page becomes accessible only
 * when a PTE maps it to a RAM frame, by mmap of the RAM memfd at the frame's
 * offset (MAP_FIXED over the reservation). Two PTEs naming one frame are two
 * real mappings of the same memory.
 * Invariants: host protection == PTE state (PROT_NONE unless valid);
 * pfn map_count == number of valid PTEs naming the frame.
 * Not modelled: large pages; PTE accessed/dirty bits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "machine/bitmap.h"
#include "mm/mm.h"

static void *anon(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int mm_space_create(struct mm_space *s, const char *name, uint64_t bytes, unsigned page_shift,
                    struct machine_error *err)
{
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->npages = bytes >> page_shift;
    s->bytes = s->npages << page_shift;
    /* Reserve with room to align the base to the simulated page size. */
    uint64_t align = 1ULL << page_shift;
    uint8_t *raw =
        mmap(NULL, s->bytes + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) {
        machine_error_set(err, "reserving %llu bytes of %s address space: %s",
                          (unsigned long long)s->bytes, name, strerror(errno));
        return -1;
    }
    uint8_t *base = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    if (base > raw)
        munmap(raw, (size_t)(base - raw));
    uint8_t *tail = base + s->bytes;
    if (tail < raw + s->bytes + align)
        munmap(tail, (size_t)(raw + s->bytes + align - tail));
    s->base = base;
    s->ptes = anon(s->npages * sizeof(uint64_t));
    s->reserved = anon(((s->npages + 63) / 64) * sizeof(uint64_t));
    if (!s->ptes || !s->reserved) {
        machine_error_set(err, "allocating the page table of %s space: %s", name, strerror(errno));
        return -1;
    }
    /* Page 0 of a space is never handed out, so no simulated VA is the
     * base itself and NULL-like arithmetic stays visible. */
    bitmap_put(s->reserved, 0, true);
    s->hint = 1;
    return 0;
}

void mm_space_destroy(struct mm_space *s)
{
    if (s->base)
        munmap(s->base, s->bytes);
    if (s->ptes)
        munmap(s->ptes, s->npages * sizeof(uint64_t));
    if (s->reserved)
        munmap(s->reserved, ((s->npages + 63) / 64) * sizeof(uint64_t));
    memset(s, 0, sizeof(*s));
}

static struct mm_space *space_of(struct mm *mm, const void *va)
{
    const uint8_t *p = va;
    if (p >= mm->system.base && p < mm->system.base + mm->system.bytes)
        return &mm->system;
    struct mm_user_space *u = mm->users ? mm_user_space_of(mm, va) : NULL;
    return u ? &u->space : NULL;
}

uint64_t *mm_pte_of(struct mm *mm, const void *va)
{
    struct mm_space *s = space_of(mm, va);
    if (!s)
        return NULL;
    return &s->ptes[((const uint8_t *)va - s->base) >> mm->page_shift];
}

static uint64_t find_run(const struct mm_space *s, uint64_t from, uint64_t to, uint64_t n)
{
    uint64_t i = from;
    while (i + n <= to) {
        uint64_t run = 0;
        while (run < n && !bitmap_get(s->reserved, i + run))
            run++;
        if (run == n)
            return i;
        i += run + 1;
    }
    return UINT64_MAX;
}

uint64_t mm_space_reserve(struct mm_space *s, uint64_t npages)
{
    if (npages == 0 || npages >= s->npages)
        return UINT64_MAX;
    /* Next fit from the hint, then one wrap: freed ranges are reused only
     * after the space has been walked once, which keeps stale pointers into
     * freed VA faulting for a while. */
    uint64_t i = find_run(s, s->hint, s->npages, npages);
    if (i == UINT64_MAX) {
        uint64_t to = s->hint + npages < s->npages ? s->hint + npages : s->npages;
        i = find_run(s, 1, to, npages);
    }
    if (i == UINT64_MAX)
        return UINT64_MAX;
    for (uint64_t k = 0; k < npages; k++)
        bitmap_set(s->reserved, i + k);
    s->hint = i + npages;
    s->reserved_pages += npages;
    return i;
}

void mm_space_unreserve(struct mm_space *s, uint64_t first, uint64_t npages)
{
    for (uint64_t k = 0; k < npages; k++)
        bitmap_clear(s->reserved, first + k);
    s->reserved_pages -= npages;
}

void *mm_va_reserve(struct mm *mm, uint64_t npages)
{
    uint64_t i = mm_space_reserve(&mm->system, npages);
    return i == UINT64_MAX ? NULL : mm->system.base + (i << mm->page_shift);
}

void mm_va_release(struct mm *mm, void *va, uint64_t npages)
{
    struct mm_space *s = space_of(mm, va);
    if (!s)
        return;
    mm_unmap_pages(mm, va, npages);
    uint64_t first = ((uint8_t *)va - s->base) >> mm->page_shift;
    for (uint64_t k = 0; k < npages; k++)
        s->ptes[first + k] = 0;
    mm_space_unreserve(s, first, npages);
}

static int prot_of(unsigned flags)
{
    int prot = PROT_READ;
    if (flags & mm_pte_write)
        prot |= PROT_WRITE;
    if (flags & mm_pte_exec)
        prot |= PROT_EXEC;
    return prot;
}

int mm_map_page(struct mm *mm, void *va, uint64_t frame, unsigned flags)
{
    uint64_t *pte = mm_pte_of(mm, va);
    if (!pte)
        return -1;
    void *p = mmap(va, mm->page_size, prot_of(flags), MAP_SHARED | MAP_FIXED,
                   mm->machine->ram.memfd, (off_t)(frame << mm->page_shift));
    if (p == MAP_FAILED) {
        fprintf(stderr, "wdmsim: mmap of frame %#llx at %p failed: %s\n", (unsigned long long)frame,
                va, strerror(errno));
        return -1;
    }
    if (*pte & mm_pte_valid)
        mm->machine->pfn.entries[mm_pte_frame(*pte)].map_count--;
    *pte = mm_pte_make(frame, flags | mm_pte_valid);
    mm->machine->pfn.entries[frame].map_count++;
    mm->mapped_pages++;
    if (flags & mm_pte_pageable)
        mm_paging_note(mm, va, 1); /* paging.c may trim it */
    return 0;
}

void mm_unmap_pages(struct mm *mm, void *va, uint64_t npages)
{
    uint64_t *pte = mm_pte_of(mm, va);
    if (!pte)
        return;
    /* Back to an inaccessible reservation: a stale pointer faults. */
    mmap(va, npages << mm->page_shift, PROT_NONE,
         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    for (uint64_t k = 0; k < npages; k++) {
        if (pte[k] & mm_pte_valid) {
            mm->machine->pfn.entries[mm_pte_frame(pte[k])].map_count--;
            mm->mapped_pages--;
        }
        pte[k] &= ~(uint64_t)mm_pte_valid;
    }
}

void *mm_alloc_pages(struct mm *mm, uint64_t npages, uint64_t max_frame_excl)
{
    uint8_t *va = mm_va_reserve(mm, npages);
    if (!va)
        return NULL;
    for (uint64_t k = 0; k < npages; k++) {
        uint64_t f = pfn_alloc(&mm->machine->pfn, max_frame_excl);
        if (f == UINT64_MAX || mm_map_page(mm, va + (k << mm->page_shift), f, mm_pte_write)) {
            if (f != UINT64_MAX)
                pfn_free(&mm->machine->pfn, f);
            mm_free_pages(mm, va, k);
            /* the rest of the reservation */
            mm_va_release(mm, va + (k << mm->page_shift), npages - k);
            return NULL;
        }
    }
    return va;
}

void mm_free_pages(struct mm *mm, void *va, uint64_t npages)
{
    uint64_t *pte = mm_pte_of(mm, va);
    if (!pte)
        return;
    for (uint64_t k = 0; k < npages; k++)
        if (pte[k] & mm_pte_valid)
            pfn_free(&mm->machine->pfn, mm_pte_frame(pte[k]));
    mm_va_release(mm, va, npages);
}

bool mm_va_to_pa(struct mm *mm, const void *va, uint64_t *pa)
{
    uint64_t *pte = mm_pte_of(mm, va);
    if (!pte || !(*pte & mm_pte_valid) || (*pte & mm_pte_io))
        return false;
    *pa = (mm_pte_frame(*pte) << mm->page_shift) | ((uintptr_t)va & (mm->page_size - 1));
    return true;
}

int mm_init(struct mm *mm, struct machine *m, struct machine_error *err)
{
    memset(mm, 0, sizeof(*mm));
    mm->machine = m;
    mm->page_shift = m->page_shift;
    mm->page_size = m->page_size;
    /* First, so that it precedes the SEH resolver (registered later). */
    mm_fault_register(mm_user_resolve);
    return mm_space_create(&mm->system, "system", m->cfg.system_va_bytes, m->page_shift, err);
}

void mm_fini(struct mm *mm)
{
    mm_paging_fini(mm);
    mm_user_fini(mm);
    mm_space_destroy(&mm->system);
}
