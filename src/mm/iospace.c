/*
 * src/mm/iospace.c - MmMapIoSpace / MmMapIoSpaceEx / MmUnmapIoSpace.
 *
 * Models: spec/memory.md 6, spec/io.md 5 and 7: a driver maps the
 * translated memory resources of its device at IRP_MN_START_DEVICE and
 * unmaps them at STOP / REMOVE.
 * Decision (docs/io.md): device memory is never backed by host memory. A
 * mapping reserves real system VA and writes PTEs (mm_pte_io) naming the
 * device's physical pages, but the host pages stay PROT_NONE: only
 * READ_/WRITE_REGISTER_* reach the device, by looking the VA up here and
 * calling the bus; a plain dereference faults. Mapping RAM is allowed (as on
 * Windows) and gives an ordinary second mapping of the frames.
 * Spec rules: mm.mapiospace-irql (0xC4/0x73), mm.unmapiospace-irql (0x7B),
 * mm.iospace-leak-at-remove (wdmsim: 0xC4/0x5700000B).
 * Invariants: every mm_pte_io PTE belongs to exactly one live mm_iomap.
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "sys.h"

static const struct vf_rule rule_map_irql = {
    .id = "mm.mapiospace-irql",
    .code = 0xC4,
    .p1 = 0x73,
    .params = {"IRQL", "physical address", "bytes"},
    .text = "MmMapIoSpace above DISPATCH_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mm-mapiospace-irql",
};

static const struct vf_rule rule_unmap_irql = {
    .id = "mm.unmapiospace-irql",
    .code = 0xC4,
    .p1 = 0x7B,
    .params = {"IRQL", "virtual address", "bytes"},
    .text = "MmUnmapIoSpace above APC_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mm-unmapiospace-irql",
};

static const struct vf_rule rule_leak_at_remove = {
    .id = "mm.iospace-leak-at-remove",
    .code = 0xC4,
    .p1 = 0x5700000B,
    .params = {"virtual address", "physical address", "bytes"},
    .text = "an MmMapIoSpace mapping of a device's registers is still live after "
            "IRP_MN_REMOVE_DEVICE",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mm-iospace-leak-at-remove",
};

static const struct vf_rule rule_unmap_bad = {
    .id = "mm.unmapiospace-bad-address",
    .code = 0xC4,
    .p1 = 0x57000010,
    .params = {"virtual address", "bytes", "bytes mapped"},
    .text = "MmUnmapIoSpace of an address or length MmMapIoSpace did not return",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mm-unmapiospace-bad-address",
};

const struct vf_rule *const mm_io_vf_rules[mm_io_vf_rule_count] = {
    &rule_map_irql, &rule_unmap_irql, &rule_leak_at_remove, &rule_unmap_bad};

static PVOID map_io(PHYSICAL_ADDRESS pa, SIZE_T bytes, void *caller)
{
    struct sys *sys = sys_get();
    struct mm *mm = &sys->mm;
    ke_sched_point(&sys->ke);
    uint8_t irql = ke_irql(&sys->ke);
    if (irql > DISPATCH_LEVEL)
        vf_fire(&rule_map_irql, irql, (uint64_t)pa.QuadPart, bytes,
                "[PA %#llx, %zu bytes] MmMapIoSpace at IRQL %u", (unsigned long long)pa.QuadPart,
                (size_t)bytes, irql);
    if (bytes == 0 || pa.QuadPart < 0)
        return NULL;
    uint64_t start = (uint64_t)pa.QuadPart, off = start & (mm->page_size - 1);
    uint64_t first = start >> mm->page_shift;
    uint64_t npages = (off + bytes + mm->page_size - 1) >> mm->page_shift;
    struct mm_iomap *im = calloc(1, sizeof(*im));
    if (!im)
        return NULL;
    uint8_t *va = mm_va_reserve(mm, npages);
    if (!va) {
        free(im);
        return NULL;
    }
    for (uint64_t k = 0; k < npages; k++) {
        uint64_t f = first + k;
        uint8_t *page = va + (k << mm->page_shift);
        if (machine_is_ram(&sys->machine, f << mm->page_shift) &&
            pfn_is_allocated(&sys->machine.pfn, f)) {
            mm_map_page(mm, page, f, mm_pte_write);
        } else {
            /* Device space: a PTE the register routines read; no host page. */
            uint64_t *pte = mm_pte_of(mm, page);
            *pte = mm_pte_make(f, mm_pte_valid | mm_pte_write | mm_pte_io);
        }
    }
    im->va = va + off;
    im->pa = start;
    im->bytes = bytes;
    im->npages = npages;
    im->caller = caller;
    im->next = mm->iomaps;
    mm->iomaps = im;
    return im->va;
}

NTKERNELAPI PVOID NTAPI MmMapIoSpace(PHYSICAL_ADDRESS PhysicalAddress, SIZE_T NumberOfBytes,
                                     MEMORY_CACHING_TYPE CacheType)
{
    (void)CacheType;
    return map_io(PhysicalAddress, NumberOfBytes, __builtin_return_address(0));
}

NTKERNELAPI PVOID NTAPI MmMapIoSpaceEx(PHYSICAL_ADDRESS PhysicalAddress, SIZE_T NumberOfBytes,
                                       ULONG Protect)
{
    (void)Protect;
    return map_io(PhysicalAddress, NumberOfBytes, __builtin_return_address(0));
}

static void release(struct mm *mm, struct mm_iomap *im)
{
    uint8_t *base = (uint8_t *)((uintptr_t)im->va & ~(uintptr_t)(mm->page_size - 1));
    for (uint64_t k = 0; k < im->npages; k++) {
        uint64_t *pte = mm_pte_of(mm, base + (k << mm->page_shift));
        if (pte && (*pte & mm_pte_io))
            *pte = 0; /* never a host mapping: nothing for mm_unmap_pages to count */
    }
    mm_va_release(mm, base, im->npages);
    free(im);
}

NTKERNELAPI VOID NTAPI MmUnmapIoSpace(PVOID BaseAddress, SIZE_T NumberOfBytes)
{
    struct sys *sys = sys_get();
    struct mm *mm = &sys->mm;
    ke_sched_point(&sys->ke);
    uint8_t irql = ke_irql(&sys->ke);
    if (irql > APC_LEVEL)
        vf_fire(&rule_unmap_irql, irql, (uint64_t)(uintptr_t)BaseAddress, NumberOfBytes,
                "[VA %p, %zu bytes] MmUnmapIoSpace at IRQL %u", BaseAddress, (size_t)NumberOfBytes,
                irql);
    for (struct mm_iomap **pp = &mm->iomaps; *pp; pp = &(*pp)->next) {
        struct mm_iomap *im = *pp;
        if (im->va != BaseAddress)
            continue;
        if (im->bytes != NumberOfBytes)
            vf_fire(&rule_unmap_bad, (uint64_t)(uintptr_t)BaseAddress, NumberOfBytes, im->bytes,
                    "[VA %p] MmUnmapIoSpace of %zu bytes; %llu were mapped", BaseAddress,
                    (size_t)NumberOfBytes, (unsigned long long)im->bytes);
        *pp = im->next;
        release(mm, im);
        return;
    }
    vf_fire(&rule_unmap_bad, (uint64_t)(uintptr_t)BaseAddress, NumberOfBytes, 0,
            "[VA %p, %zu bytes] MmUnmapIoSpace of an address MmMapIoSpace did not return",
            BaseAddress, (size_t)NumberOfBytes);
}

bool mm_iomap_lookup(struct mm *mm, const void *va, uint64_t *pa)
{
    const uint8_t *p = va;
    for (struct mm_iomap *im = mm->iomaps; im; im = im->next) {
        const uint8_t *lo = im->va;
        if (p >= lo && p < lo + im->bytes) {
            *pa = im->pa + (uint64_t)(p - lo);
            return true;
        }
    }
    /* A page of a mapping outside [va, va + bytes) still decodes by PTE. */
    uint64_t *pte = mm_pte_of(mm, va);
    if (pte && (*pte & mm_pte_valid) && (*pte & mm_pte_io)) {
        *pa = (mm_pte_frame(*pte) << mm->page_shift) | ((uintptr_t)va & (mm->page_size - 1));
        return true;
    }
    return false;
}

void mm_iomap_check_removed(struct mm *mm, uint64_t pa, uint64_t len, const char *device)
{
    for (struct mm_iomap *im = mm->iomaps; im; im = im->next) {
        if (im->pa < pa + len && pa < im->pa + im->bytes) {
            char where[160];
            vf_backtrace_describe(im->caller, where, sizeof(where));
            vf_fire(&rule_leak_at_remove, (uint64_t)(uintptr_t)im->va, im->pa, im->bytes,
                    "[device %s, VA %p, PA %#llx, %llu bytes, mapped at %s] not unmapped by "
                    "IRP_MN_REMOVE_DEVICE",
                    device, im->va, (unsigned long long)im->pa, (unsigned long long)im->bytes,
                    where);
            return;
        }
    }
}

void mm_iomap_fini(struct mm *mm)
{
    while (mm->iomaps) {
        struct mm_iomap *im = mm->iomaps;
        mm->iomaps = im->next;
        release(mm, im);
    }
}
