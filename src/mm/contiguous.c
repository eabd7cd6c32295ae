/*
 * src/mm/contiguous.c - physically contiguous and non-cached memory.
 *
 * Models: spec/memory.md 6. MmAllocateContiguousMemory* take one run of
 * frames inside [Lowest, Highest] that does not cross a multiple of
 * BoundaryAddressMultiple, and map it at contiguous system VA with one host
 * mapping (mm_map_run, also used by the pool for its page runs).
 * MmAllocateNonCachedMemory takes whole pages of scattered frames. Both are
 * nonpaged, page-aligned and uninitialized; the caller owns only the bytes
 * asked for. Every block is recorded (va, pages, cache type) so a free
 * checks its pointer: a bad one is pool.contiguous-bad-free (0xC2/0x60).
 * Invariants: a record's pages are mapped and their frames allocated.
 * Not modelled: the cache type changes nothing in host memory (it is kept
 * and checked at free); NUMA nodes (every node request is served from the
 * one node).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <wdm.h>

#include "sys.h"

const struct vf_rule mm_rule_contiguous_bad_free = {
    .id = "pool.contiguous-bad-free",
    .code = 0xC2,
    .p1 = 0x60,
    .params = {"address", "reserved", "reserved"},
    .text = "MmFreeContiguousMemory / MmFreeNonCachedMemory of an address (or size) that the "
            "allocator never returned",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/pool-contiguous-bad-free",
};

int mm_map_run(struct mm *mm, void *va, uint64_t frame, uint64_t n, unsigned flags)
{
    uint64_t *pte = mm_pte_of(mm, va);
    if (!pte)
        return -1;
    int prot = PROT_READ | ((flags & mm_pte_write) ? PROT_WRITE : 0) |
               ((flags & mm_pte_exec) ? PROT_EXEC : 0);
    void *p = mmap(va, n << mm->page_shift, prot, MAP_SHARED | MAP_FIXED, mm->machine->ram.memfd,
                   (off_t)(frame << mm->page_shift));
    if (p == MAP_FAILED) {
        fprintf(stderr, "wdmsim: mmap of %llu frames from %#llx at %p failed: %s\n",
                (unsigned long long)n, (unsigned long long)frame, va, strerror(errno));
        return -1;
    }
    for (uint64_t k = 0; k < n; k++) {
        if (pte[k] & mm_pte_valid)
            mm->machine->pfn.entries[mm_pte_frame(pte[k])].map_count--;
        pte[k] = mm_pte_make(frame + k, flags | mm_pte_valid);
        mm->machine->pfn.entries[frame + k].map_count++;
    }
    mm->mapped_pages += n;
    if (flags & mm_pte_pageable)
        mm_paging_note(mm, va, n); /* paging.c may trim it */
    return 0;
}

static int record(struct mm *mm, void *va, uint64_t pages, int cache, bool noncached)
{
    if (mm->ncontig == mm->contig_cap) {
        unsigned cap = mm->contig_cap ? mm->contig_cap * 2 : 16;
        struct mm_contig *c = realloc(mm->contig, cap * sizeof(*c));
        if (!c)
            return -1;
        mm->contig = c;
        mm->contig_cap = cap;
    }
    mm->contig[mm->ncontig++] = (struct mm_contig){va, pages, cache, noncached};
    return 0;
}

static struct mm_contig *find(struct mm *mm, const void *va)
{
    for (unsigned i = 0; i < mm->ncontig; i++)
        if (mm->contig[i].va == va)
            return &mm->contig[i];
    return NULL;
}

static void *contiguous_alloc(SIZE_T bytes, uint64_t lowest, uint64_t highest, uint64_t boundary,
                              int cache, void *caller)
{
    struct sys *sys = sys_get();
    struct mm *mm = &sys->mm;
    if (bytes == 0 || cache < MmNonCached || cache >= MmMaximumCacheType)
        return NULL;
    if (vf_low_resources_fail(sys, "MmAllocateContiguousMemory", 0, caller))
        return NULL;
    uint64_t n = (bytes + mm->page_size - 1) >> mm->page_shift;
    uint64_t lo = (lowest + mm->page_size - 1) >> mm->page_shift;
    uint64_t hi = highest == UINT64_MAX ? UINT64_MAX : (highest + 1) >> mm->page_shift;
    if (lo == 0)
        lo = 1; /* frame 0 has physical address 0, which reads as "none" */
    uint64_t bframes = boundary >> mm->page_shift;
    if (boundary &&
        ((boundary & (boundary - 1)) || bframes < n || (boundary & (mm->page_size - 1))))
        return NULL; /* a boundary smaller than the block, or not a power of two */
    if (n > mm->machine->pfn.nframes)
        return NULL;
    uint64_t f = pfn_alloc_run(&mm->machine->pfn, n, lo, hi, bframes);
    if (f == UINT64_MAX)
        return NULL;
    void *va = mm_va_reserve(mm, n);
    if (!va || mm_map_run(mm, va, f, n, mm_pte_write) || record(mm, va, n, cache, false)) {
        if (va)
            mm_va_release(mm, va, n);
        for (uint64_t k = 0; k < n; k++)
            pfn_free(&mm->machine->pfn, f + k);
        return NULL;
    }
    return va;
}

NTKERNELAPI PVOID NTAPI MmAllocateContiguousMemorySpecifyCache(
    SIZE_T NumberOfBytes, PHYSICAL_ADDRESS LowestAcceptableAddress,
    PHYSICAL_ADDRESS HighestAcceptableAddress, PHYSICAL_ADDRESS BoundaryAddressMultiple,
    MEMORY_CACHING_TYPE CacheType)
{
    return contiguous_alloc(NumberOfBytes, (uint64_t)LowestAcceptableAddress.QuadPart,
                            (uint64_t)HighestAcceptableAddress.QuadPart,
                            (uint64_t)BoundaryAddressMultiple.QuadPart, CacheType,
                            __builtin_return_address(0));
}

NTKERNELAPI PVOID NTAPI MmAllocateContiguousMemorySpecifyCacheNode(
    SIZE_T NumberOfBytes, PHYSICAL_ADDRESS LowestAcceptableAddress,
    PHYSICAL_ADDRESS HighestAcceptableAddress, PHYSICAL_ADDRESS BoundaryAddressMultiple,
    MEMORY_CACHING_TYPE CacheType, NODE_REQUIREMENT PreferredNode)
{
    (void)PreferredNode;
    return contiguous_alloc(NumberOfBytes, (uint64_t)LowestAcceptableAddress.QuadPart,
                            (uint64_t)HighestAcceptableAddress.QuadPart,
                            (uint64_t)BoundaryAddressMultiple.QuadPart, CacheType,
                            __builtin_return_address(0));
}

NTKERNELAPI PVOID NTAPI MmAllocateContiguousMemory(SIZE_T NumberOfBytes,
                                                   PHYSICAL_ADDRESS HighestAcceptableAddress)
{
    return contiguous_alloc(NumberOfBytes, 0, (uint64_t)HighestAcceptableAddress.QuadPart, 0,
                            MmCached, __builtin_return_address(0));
}

NTKERNELAPI PVOID NTAPI MmAllocateContiguousNodeMemory(SIZE_T NumberOfBytes,
                                                       PHYSICAL_ADDRESS LowestAcceptableAddress,
                                                       PHYSICAL_ADDRESS HighestAcceptableAddress,
                                                       PHYSICAL_ADDRESS BoundaryAddressMultiple,
                                                       ULONG Protect,
                                                       NODE_REQUIREMENT PreferredNode)
{
    (void)PreferredNode;
    /* Read/write is required; NOCACHE and WRITECOMBINE pick the cache type. */
    if ((Protect & ~(ULONG)(PAGE_NOCACHE | PAGE_WRITECOMBINE)) != PAGE_READWRITE &&
        (Protect & ~(ULONG)(PAGE_NOCACHE | PAGE_WRITECOMBINE)) != PAGE_EXECUTE_READWRITE)
        return NULL;
    int cache = (Protect & PAGE_NOCACHE)        ? MmNonCached
                : (Protect & PAGE_WRITECOMBINE) ? MmWriteCombined
                                                : MmCached;
    return contiguous_alloc(NumberOfBytes, (uint64_t)LowestAcceptableAddress.QuadPart,
                            (uint64_t)HighestAcceptableAddress.QuadPart,
                            (uint64_t)BoundaryAddressMultiple.QuadPart, cache,
                            __builtin_return_address(0));
}

static void release(struct mm *mm, struct mm_contig *c)
{
    mm_free_pages(mm, c->va, c->pages);
    *c = mm->contig[--mm->ncontig];
}

static void bad_free(const char *routine, void *va, const char *why)
{
    vf_fire(&mm_rule_contiguous_bad_free, (uint64_t)(uintptr_t)va, 0, 0, "%s(%p): %s", routine, va,
            why);
}

NTKERNELAPI VOID NTAPI MmFreeContiguousMemory(PVOID BaseAddress)
{
    struct mm *mm = &sys_get()->mm;
    struct mm_contig *c = find(mm, BaseAddress);
    if (!c || c->noncached_api) {
        bad_free("MmFreeContiguousMemory", BaseAddress,
                 c ? "the block came from MmAllocateNonCachedMemory"
                   : "not the start of a contiguous block");
        return;
    }
    release(mm, c);
}

NTKERNELAPI VOID NTAPI MmFreeContiguousMemorySpecifyCache(PVOID BaseAddress, SIZE_T NumberOfBytes,
                                                          MEMORY_CACHING_TYPE CacheType)
{
    struct mm *mm = &sys_get()->mm;
    struct mm_contig *c = find(mm, BaseAddress);
    uint64_t n = (NumberOfBytes + mm->page_size - 1) >> mm->page_shift;
    if (!c || c->noncached_api || c->pages != n || c->cache != (int)CacheType) {
        bad_free("MmFreeContiguousMemorySpecifyCache", BaseAddress,
                 !c ? "not the start of a contiguous block"
                    : "size or cache type differ from the allocation's");
        return;
    }
    release(mm, c);
}

NTKERNELAPI PVOID NTAPI MmAllocateNonCachedMemory(SIZE_T NumberOfBytes)
{
    struct sys *sys = sys_get();
    struct mm *mm = &sys->mm;
    if (NumberOfBytes == 0)
        return NULL;
    uint64_t n = (NumberOfBytes + mm->page_size - 1) >> mm->page_shift;
    if (n > mm->machine->pfn.nframes)
        return NULL;
    void *va = mm_alloc_pages(mm, n, UINT64_MAX);
    if (!va)
        return NULL;
    if (record(mm, va, n, MmNonCached, true)) {
        mm_free_pages(mm, va, n);
        return NULL;
    }
    return va;
}

NTKERNELAPI VOID NTAPI MmFreeNonCachedMemory(PVOID BaseAddress, SIZE_T NumberOfBytes)
{
    struct mm *mm = &sys_get()->mm;
    struct mm_contig *c = find(mm, BaseAddress);
    uint64_t n = (NumberOfBytes + mm->page_size - 1) >> mm->page_shift;
    if (!c || !c->noncached_api || c->pages != n) {
        bad_free("MmFreeNonCachedMemory", BaseAddress,
                 !c ? "not the start of a non-cached block" : "size differs from the allocation's");
        return;
    }
    release(mm, c);
}

void mm_contig_fini(struct mm *mm)
{
    free(mm->contig);
    mm->contig = NULL;
    mm->ncontig = mm->contig_cap = 0;
}
