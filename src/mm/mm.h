/*
 * src/mm/mm.h - the memory manager: address spaces, PTEs, mappings.
 * The whole interface of src/mm to the other layers.
 *
 * Models: Windows' system address space as a reserved host region whose
 * pages are mapped to RAM frames by mmap of the RAM memfd at the frame's
 * offset: simulated virtual addresses are real host addresses that driver
 * code dereferences, two pages can alias one frame, and contiguous virtual
 * memory sits on scattered frames. A software page table records every PTE.
 * Spec: spec/memory.md 2, 6; ARCHITECTURE.md 2.
 * Invariants: a valid PTE's frame is allocated in the PFN database and its
 * map_count counts it; host protection of a page equals its PTE's.
 */
#ifndef WDMSIM_MM_H
#define WDMSIM_MM_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/machine.h"

/* A PTE: frame number above bit 12, flags below. */
enum {
    mm_pte_valid = 1u << 0,
    mm_pte_write = 1u << 1,
    mm_pte_exec = 1u << 2,
    mm_pte_pageable = 1u << 3,
    mm_pte_trimmed = 1u << 4,   /* pageable page made non-resident */
    mm_pte_guard = 1u << 5,     /* reserved, never to be mapped */
    mm_pte_user = 1u << 6,
    mm_pte_io = 1u << 7,        /* maps device space, not RAM */
};
#define MM_PTE_FRAME_SHIFT 12

static inline uint64_t mm_pte_make(uint64_t frame, unsigned flags)
{
    return (frame << MM_PTE_FRAME_SHIFT) | flags;
}
static inline uint64_t mm_pte_frame(uint64_t pte)
{
    return pte >> MM_PTE_FRAME_SHIFT;
}

/* One contiguous region of host address space holding simulated pages. */
struct mm_space {
    const char *name;      /* "system", a process name */
    uint8_t *base;
    uint64_t bytes;
    uint64_t npages;
    uint64_t *ptes;        /* npages entries; 0 = never mapped */
    uint64_t *reserved;    /* bitmap: page reserved by an allocator */
    uint64_t hint;         /* next page to try when reserving */
    uint64_t reserved_pages;
};

struct mm {
    struct machine *machine;
    unsigned page_shift;
    uint64_t page_size;
    struct mm_space system;
    uint64_t mapped_pages; /* statistics */
};

int mm_init(struct mm *mm, struct machine *m, struct machine_error *err);
void mm_fini(struct mm *mm);

/* Reserves npages consecutive pages of system VA (no frames). NULL if full. */
void *mm_va_reserve(struct mm *mm, uint64_t npages);
/* Unmaps (frames are not freed) and releases a reserved range. */
void mm_va_release(struct mm *mm, void *va, uint64_t npages);

/* Maps one page at va (page-aligned, reserved) to frame with flags
 * (mm_pte_write ...). Returns 0 or -1 (host mmap failure, reported). */
int mm_map_page(struct mm *mm, void *va, uint64_t frame, unsigned flags);
/* Unmaps npages at va; the VA stays reserved, frames stay allocated. */
void mm_unmap_pages(struct mm *mm, void *va, uint64_t npages);

/* Resident system memory: reserve, take frames below max_frame_excl
 * (UINT64_MAX = anywhere), map writable. NULL when VA or frames run out,
 * with nothing left allocated. */
void *mm_alloc_pages(struct mm *mm, uint64_t npages, uint64_t max_frame_excl);
void mm_free_pages(struct mm *mm, void *va, uint64_t npages);

/* The PTE of va, or NULL when va is outside every simulated space. */
uint64_t *mm_pte_of(struct mm *mm, const void *va);
/* Physical address of va; false when va is not mapped to RAM now. */
bool mm_va_to_pa(struct mm *mm, const void *va, uint64_t *pa);

#endif
