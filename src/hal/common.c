/*
 * src/hal/common.c - AllocateCommonBuffer, FreeCommonBuffer,
 * GetDmaAlignment.
 *
 * Models: spec/dma.md 3: physically contiguous frames the device can reach,
 * never crossing what it cannot cross (64 KiB block on channels 0-3,
 * 128 KiB on 5-7, the 4 GiB line for masters), mapped once into system VA,
 * uninitialized; the logical address is the first frame's physical address.
 * CacheEnabled is recorded and otherwise ignored (x64 DMA is coherent).
 * Common buffers use no map registers here: they are reachable by
 * construction and never bounced, and the bus lets the device at them in
 * both directions. A MapTransfer over one (system DMA with a common buffer,
 * spec/dma.md 5 (d)) maps it directly even when double-buffering is on:
 * CPU and device share it by contract (hal_common_holds).
 * Rule ids: dma.zero-length, dma.common-buffer-double-free,
 * dma.common-buffer-mismatch, dma.unchecked-failure.
 */
#include <stdlib.h>

#include "sys.h"

void *hal_common_alloc(struct hal_adapter *a, ULONG length, uint64_t max_pa, bool cached,
                       PHYSICAL_ADDRESS *logical)
{
    struct sys *sys = sys_get();
    unsigned shift = a->lim.page_shift;
    uint64_t npages = ((uint64_t)length + (1ULL << shift) - 1) >> shift;
    uint64_t hi = a->lim.reach_frames;
    if (max_pa && (max_pa >> shift) < hi)
        hi = max_pa >> shift;
    uint64_t boundary = a->lim.block ? a->lim.block >> shift : (4ULL << 30) >> shift;
    uint64_t frame = pfn_alloc_run(&sys->machine.pfn, npages, 0, hi, boundary);
    if (frame == UINT64_MAX)
        return NULL;
    struct hal_common_buffer *c = calloc(1, sizeof(*c));
    void *va = c ? mm_va_reserve(&sys->mm, npages) : NULL;
    if (!va || mm_map_run(&sys->mm, va, frame, npages, mm_pte_write)) {
        if (va)
            mm_va_release(&sys->mm, va, npages);
        for (uint64_t i = 0; i < npages; i++)
            pfn_free(&sys->machine.pfn, frame + i);
        free(c);
        return NULL;
    }
    *c = (struct hal_common_buffer){
        .next = a->commons,
        .va = va,
        .logical = (frame << shift) ^ a->lim.logical_xor,
        .bytes = length,
        .npages = npages,
        .cached = cached,
    };
    a->commons = c;
    a->common_buffers++;
    logical->QuadPart = (LONGLONG)c->logical;
    return va;
}

PVOID NTAPI hal_op_allocate_common_buffer(PDMA_ADAPTER DmaAdapter, ULONG Length,
                                          PPHYSICAL_ADDRESS LogicalAddress, BOOLEAN CacheEnabled)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_passive, "AllocateCommonBuffer");
    if (!a || !LogicalAddress)
        return NULL;
    if (Length == 0) {
        hal_violation(a->hal, &hal_rule_zero_length, 0, 0, 0,
                      "AllocateCommonBuffer of 0 bytes on adapter %p", (void *)a);
        return NULL;
    }
    return hal_common_alloc(a, Length, 0, CacheEnabled, LogicalAddress);
}

VOID NTAPI hal_op_free_common_buffer(PDMA_ADAPTER DmaAdapter, ULONG Length,
                                     PHYSICAL_ADDRESS LogicalAddress, PVOID VirtualAddress,
                                     BOOLEAN CacheEnabled)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_passive, "FreeCommonBuffer");
    if (!a)
        return;
    struct sys *sys = sys_get();
    if (!VirtualAddress) {
        hal_violation(a->hal, &hal_rule_unchecked_failure, 1, 0, 0,
                      "FreeCommonBuffer(NULL) on adapter %p: AllocateCommonBuffer failed and "
                      "its NULL was used",
                      (void *)a);
        return;
    }
    struct hal_common_buffer **pp = &a->commons;
    while (*pp && (*pp)->va != VirtualAddress)
        pp = &(*pp)->next;
    struct hal_common_buffer *c = *pp;
    if (!c) {
        hal_violation(a->hal, &hal_rule_common_buffer_double_free, 1, 0, 0,
                      "FreeCommonBuffer(%p): no common buffer of adapter %p starts there (freed "
                      "already?)",
                      VirtualAddress, (void *)a);
        return;
    }
    if (c->bytes != Length || (uint64_t)LogicalAddress.QuadPart != c->logical) {
        hal_violation(
            a->hal, &hal_rule_common_buffer_mismatch, (uintptr_t)VirtualAddress, Length, c->bytes,
            "FreeCommonBuffer(%p, Length %lu, Logical %#llx): allocated as %llu bytes "
            "at %#llx",
            VirtualAddress, (unsigned long)Length, (unsigned long long)LogicalAddress.QuadPart,
            (unsigned long long)c->bytes, (unsigned long long)c->logical);
        return;
    }
    *pp = c->next;
    unsigned shift = a->lim.page_shift;
    mm_va_release(&sys->mm, c->va, c->npages);
    for (uint64_t i = 0; i < c->npages; i++)
        pfn_free(&sys->machine.pfn, ((c->logical ^ a->lim.logical_xor) >> shift) + i);
    free(c);
    a->common_buffers--;
}

ULONG NTAPI hal_op_get_dma_alignment(PDMA_ADAPTER DmaAdapter)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_passive, "GetDmaAlignment");
    return a ? a->alignment : 1;
}

bool hal_common_holds(struct hal_adapter *a, const MDL *mdl, uintptr_t va, uint64_t len)
{
    unsigned shift = a->lim.page_shift;
    uint64_t mask = (1ULL << shift) - 1;
    const PFN_NUMBER *pfn = (const PFN_NUMBER *)(mdl + 1);
    uint64_t first = (va - (uintptr_t)mdl->StartVa) >> shift;
    uint64_t pages = ((va & mask) + len + mask) >> shift;
    for (uint64_t i = 0; i < pages; i++)
        if (!hal_common_find(a, ((uint64_t)pfn[first + i] << shift) ^ a->lim.logical_xor,
                             1ULL << shift))
            return false;
    return true;
}
