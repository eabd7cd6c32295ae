/*
 * src/mm/mdl_map.c - mapping MDLs into system space, and MDLs over fresh
 * frames (MmAllocatePagesForMdl(Ex) / MmFreePagesFromMdl).
 *
 * Models: spec/mdl.md 4 (pages for MDL) and 5 (mapping). A kernel mapping
 * is a second real mapping of the MDL's frames in system VA: two VAs, one
 * frame, so data written through one is read through the other.
 * MmGetSystemAddressForMdlSafe is the WDK's inline (include/ddk/wdm/mdl.h)
 * over MmMapLockedPagesSpecifyCache.
 * Spec rules: mdl.map-irql 0xC4/0x76, mdl.legacy-map 0x81,
 * mdl.bugcheck-on-failure 0x82, mdl.map-unlocked 0x85, mdl.bad-flags 0xB2
 * (map of a mapped or nonpaged-pool MDL), mdl.partial-unmap 0xB5,
 * mdl.unmap-unmapped 0xB6, mdl.unmap-irql 0x79, mdl.pages-for-mdl-irql
 * 0x7E, mdl.unmap-wrong-address 0xC4/0x5700000D (wdmsim).
 * Not modelled: UserMode mappings (they raise STATUS_ACCESS_VIOLATION;
 * docs/apps.md), cache types, the low-resources failure of Priority.
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "sys.h"
#include "mm/mdl_impl.h"

static const struct vf_rule rule_map_irql = {
    .id = "mdl.map-irql",
    .code = 0xC4,
    .p1 = 0x76,
    .params = {"IRQL", "MDL", "access mode"},
    .text = "MmMapLockedPagesSpecifyCache (kernel) above DISPATCH_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-map-irql",
};
static const struct vf_rule rule_legacy = {
    .id = "mdl.legacy-map",
    .code = 0xC4,
    .p1 = 0x81,
    .params = {"MDL", "flags", "reserved"},
    .text = "MmMapLockedPages (legacy; bug-checks on failure): use MmMapLockedPagesSpecifyCache",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-legacy-map",
};
static const struct vf_rule rule_bugcheck_on_failure = {
    .id = "mdl.bugcheck-on-failure",
    .code = 0xC4,
    .p1 = 0x82,
    .params = {"MDL", "flags", "reserved"},
    .text = "MmMapLockedPagesSpecifyCache with BugCheckOnFailure TRUE",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-bugcheck-on-failure",
};
static const struct vf_rule rule_map_unlocked = {
    .id = "mdl.map-unlocked",
    .code = 0xC4,
    .p1 = 0x85,
    .params = {"MDL", "pages", "first unlocked PFN"},
    .text = "mapping an MDL whose pages are not locked",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-map-unlocked",
};
static const struct vf_rule rule_partial_unmap = {
    .id = "mdl.partial-unmap",
    .code = 0xC4,
    .p1 = 0xB5,
    .params = {"MDL", "flags", "reserved"},
    .text = "MmUnmapLockedPages of a partial MDL (use MmPrepareMdlForReuse or IoFreeMdl)",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-partial-unmap",
};
static const struct vf_rule rule_unmap_unmapped = {
    .id = "mdl.unmap-unmapped",
    .code = 0xC4,
    .p1 = 0xB6,
    .params = {"MDL", "flags", "reserved"},
    .text = "MmUnmapLockedPages of an MDL that is not mapped",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-unmap-unmapped",
};
static const struct vf_rule rule_unmap_irql = {
    .id = "mdl.unmap-irql",
    .code = 0xC4,
    .p1 = 0x79,
    .params = {"IRQL", "virtual address", "MDL"},
    .text = "MmUnmapLockedPages (system mapping) above DISPATCH_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-unmap-irql",
};
static const struct vf_rule rule_unmap_wrong = {
    .id = "mdl.unmap-wrong-address",
    .code = 0xC4,
    .p1 = 0x5700000D,
    .params = {"address given", "MDL", "address mapped"},
    .text = "MmUnmapLockedPages with an address that is not the MDL's mapping",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-unmap-wrong-address",
};
static const struct vf_rule rule_pages_irql = {
    .id = "mdl.pages-for-mdl-irql",
    .code = 0xC4,
    .p1 = 0x7E,
    .params = {"IRQL", "reserved", "reserved"},
    .text = "MmAllocatePagesForMdl(Ex) / MmFreePagesFromMdl above DISPATCH_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-pages-for-mdl-irql",
};

const struct vf_rule *const mm_mdl_map_vf_rules[mm_mdl_map_vf_rule_count] = {
    &rule_map_irql,     &rule_legacy,        &rule_bugcheck_on_failure,
    &rule_map_unlocked, &rule_partial_unmap, &rule_unmap_unmapped,
    &rule_unmap_irql,   &rule_unmap_wrong,   &rule_pages_irql,
};

static void *map_system(PMDL m)
{
    struct mm *mm = &sys_get()->mm;
    uint64_t n = mm_mdl_span(MmGetMdlVirtualAddress(m), m->ByteCount);
    uint8_t *va = mm_va_reserve(mm, n);
    if (!va)
        return NULL;
    PPFN_NUMBER pfn = MmGetMdlPfnArray(m);
    for (uint64_t k = 0; k < n; k++) {
        uint8_t *page = va + (k << mm->page_shift);
        int rc;
        if (pfn[k] < mm->machine->pfn.nframes &&
            machine_is_ram(mm->machine, (uint64_t)pfn[k] << mm->page_shift)) {
            rc = mm_map_page(mm, page, pfn[k], mm_pte_write);
        } else {
            *mm_pte_of(mm, page) = mm_pte_make(pfn[k], mm_pte_valid | mm_pte_write | mm_pte_io);
            rc = 0;
        }
        if (rc) {
            mm_va_release(mm, va, n);
            return NULL;
        }
    }
    return va + m->ByteOffset;
}

void mm_mdl_unmap_system(PMDL m)
{
    struct mm *mm = &sys_get()->mm;
    uint8_t *va = (uint8_t *)((uintptr_t)m->MappedSystemVa & ~(uintptr_t)(mm->page_size - 1));
    uint64_t n = mm_mdl_span(m->MappedSystemVa, m->ByteCount);
    for (uint64_t k = 0; k < n; k++) {
        uint64_t *pte = mm_pte_of(mm, va + (k << mm->page_shift));
        if (pte && (*pte & mm_pte_io))
            *pte = 0;
    }
    mm_va_release(mm, va, n);
    m->MappedSystemVa = NULL;
    m->MdlFlags &= (CSHORT) ~(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED);
}

NTKERNELAPI PVOID NTAPI MmMapLockedPagesSpecifyCache(PMDL MemoryDescriptorList,
                                                     KPROCESSOR_MODE AccessMode,
                                                     MEMORY_CACHING_TYPE CacheType,
                                                     PVOID RequestedAddress,
                                                     ULONG BugCheckOnFailure, ULONG Priority)
{
    struct sys *sys = sys_get();
    PMDL m = MemoryDescriptorList;
    (void)CacheType;
    (void)RequestedAddress;
    (void)Priority;
    ke_sched_point(&sys->ke);
    uint8_t irql = ke_irql(&sys->ke);
    if (AccessMode == KernelMode && irql > DISPATCH_LEVEL)
        vf_fire(&rule_map_irql, irql, (uint64_t)(uintptr_t)m, AccessMode,
                "[MDL %p] MmMapLockedPagesSpecifyCache at IRQL %u", (void *)m, irql);
    if (BugCheckOnFailure)
        vf_fire(&rule_bugcheck_on_failure, (uint64_t)(uintptr_t)m, (uint16_t)m->MdlFlags, 0,
                "[MDL %p] BugCheckOnFailure TRUE", (void *)m);
    if (AccessMode != KernelMode)
        io_seh_raise(STATUS_ACCESS_VIOLATION, MmGetMdlVirtualAddress(m));
    if (m->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))
        ke_violation(&mm_rule_mdl_bad_flags, 0xB2, (uint64_t)(uintptr_t)m, (uint16_t)m->MdlFlags,
                     m->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL),
                     "[MDL %p, flags %#x] system mapping of an MDL that is already mapped or "
                     "describes nonpaged pool",
                     (void *)m, (unsigned)(uint16_t)m->MdlFlags);
    if (!(m->MdlFlags & (MDL_PAGES_LOCKED | MDL_PARTIAL))) {
        uint64_t n = mm_mdl_span(MmGetMdlVirtualAddress(m), m->ByteCount);
        vf_fire(&rule_map_unlocked, (uint64_t)(uintptr_t)m, n, MmGetMdlPfnArray(m)[0],
                "[MDL %p, flags %#x] mapping an MDL whose pages are not locked", (void *)m,
                (unsigned)(uint16_t)m->MdlFlags);
    }
    void *va = map_system(m);
    if (!va)
        return NULL;
    m->MappedSystemVa = va;
    m->MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA;
    if (m->MdlFlags & MDL_PARTIAL)
        m->MdlFlags |= MDL_PARTIAL_HAS_BEEN_MAPPED;
    return va;
}

NTKERNELAPI PVOID NTAPI MmMapLockedPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode)
{
    vf_fire(&rule_legacy, (uint64_t)(uintptr_t)MemoryDescriptorList,
            (uint16_t)MemoryDescriptorList->MdlFlags, 0, "[MDL %p] MmMapLockedPages",
            (void *)MemoryDescriptorList);
    return MmMapLockedPagesSpecifyCache(MemoryDescriptorList, AccessMode, MmCached, NULL, FALSE,
                                        NormalPagePriority);
}

NTKERNELAPI VOID NTAPI MmUnmapLockedPages(PVOID BaseAddress, PMDL MemoryDescriptorList)
{
    struct sys *sys = sys_get();
    PMDL m = MemoryDescriptorList;
    ke_sched_point(&sys->ke);
    uint8_t irql = ke_irql(&sys->ke);
    if (irql > DISPATCH_LEVEL)
        vf_fire(&rule_unmap_irql, irql, (uint64_t)(uintptr_t)BaseAddress, (uint64_t)(uintptr_t)m,
                "[MDL %p] MmUnmapLockedPages at IRQL %u", (void *)m, irql);
    if (m->MdlFlags & MDL_PARTIAL) {
        vf_fire(&rule_partial_unmap, (uint64_t)(uintptr_t)m, (uint16_t)m->MdlFlags, 0,
                "[MDL %p] MmUnmapLockedPages of a partial MDL", (void *)m);
        return;
    }
    if (!(m->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA)) {
        vf_fire(&rule_unmap_unmapped, (uint64_t)(uintptr_t)m, (uint16_t)m->MdlFlags, 0,
                "[MDL %p, VA %p] MmUnmapLockedPages of an MDL that is not mapped", (void *)m,
                BaseAddress);
        return;
    }
    if (BaseAddress != m->MappedSystemVa) {
        vf_fire(&rule_unmap_wrong, (uint64_t)(uintptr_t)BaseAddress, (uint64_t)(uintptr_t)m,
                (uint64_t)(uintptr_t)m->MappedSystemVa,
                "[MDL %p] MmUnmapLockedPages(%p): the MDL is mapped at %p", (void *)m, BaseAddress,
                m->MappedSystemVa);
        return;
    }
    mm_mdl_unmap_system(m);
}

/* ---- pages for MDL ------------------------------------------------------------------ */

NTKERNELAPI PMDL NTAPI MmAllocatePagesForMdlEx(PHYSICAL_ADDRESS LowAddress,
                                               PHYSICAL_ADDRESS HighAddress,
                                               PHYSICAL_ADDRESS SkipBytes, SIZE_T TotalBytes,
                                               MEMORY_CACHING_TYPE CacheType, ULONG Flags)
{
    struct sys *sys = sys_get();
    struct mm *mm = &sys->mm;
    (void)CacheType;
    ke_sched_point(&sys->ke);
    uint8_t irql = ke_irql(&sys->ke);
    if (irql > DISPATCH_LEVEL)
        vf_fire(&rule_pages_irql, irql, 0, 0, "MmAllocatePagesForMdlEx at IRQL %u", irql);
    uint64_t max = 0xFFFFFFFFULL - mm->page_size + 1;
    /* The addresses are unsigned: drivers pass -1 as HighAddress for "any". */
    uint64_t low = (uint64_t)LowAddress.QuadPart, high = (uint64_t)HighAddress.QuadPart;
    struct pfn_db *db = &mm->machine->pfn;
    if (TotalBytes == 0 || high < low || ((uint64_t)SkipBytes.QuadPart & (mm->page_size - 1)))
        return NULL;
    if (TotalBytes > max)
        TotalBytes = max;
    uint64_t want = (TotalBytes + mm->page_size - 1) >> mm->page_shift;
    /* Frames wholly inside [LowAddress, HighAddress]; when that range runs
     * dry, the same range SkipBytes further on, and so on (0: no more). */
    uint64_t top = db->nframes << mm->page_shift;
    uint64_t lo = low >= top ? db->nframes : (low + mm->page_size - 1) >> mm->page_shift;
    uint64_t hi = high >= top ? db->nframes : (high + 1) >> mm->page_shift;
    uint64_t skip = (uint64_t)SkipBytes.QuadPart >> mm->page_shift;
    PMDL m =
        ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(MDL) + want * sizeof(PFN_NUMBER), mm_tag_mdl);
    if (!m)
        return NULL;
    PPFN_NUMBER pfn = MmGetMdlPfnArray(m);
    uint64_t got = 0;
    while (got < want && lo < hi && lo < db->nframes) {
        uint64_t f = pfn_alloc_range(db, lo, hi);
        if (f == UINT64_MAX) {
            if (!skip)
                break;
            lo += skip, hi += skip;
            continue;
        }
        if (!(Flags & MM_DONT_ZERO_ALLOCATION))
            memset(machine_pa_ptr(mm->machine, f << mm->page_shift), 0, mm->page_size);
        pfn[got++] = f;
    }
    if (got == 0 || (got < want && (Flags & MM_ALLOCATE_FULLY_REQUIRED))) {
        for (uint64_t k = 0; k < got; k++)
            pfn_free(db, pfn[k]);
        ExFreePoolWithTag(m, mm_tag_mdl);
        return NULL;
    }
    uint64_t bytes = got == want ? TotalBytes : got << mm->page_shift;
    mm_mdl_init(m, NULL, bytes);
    /* As on Windows, the frames count as locked: the MDL may be mapped. */
    m->MdlFlags |= MDL_PAGES_LOCKED;
    return m;
}

NTKERNELAPI PMDL NTAPI MmAllocatePagesForMdl(PHYSICAL_ADDRESS LowAddress,
                                             PHYSICAL_ADDRESS HighAddress,
                                             PHYSICAL_ADDRESS SkipBytes, SIZE_T TotalBytes)
{
    return MmAllocatePagesForMdlEx(LowAddress, HighAddress, SkipBytes, TotalBytes, MmCached, 0);
}

NTKERNELAPI VOID NTAPI MmFreePagesFromMdl(PMDL MemoryDescriptorList)
{
    struct sys *sys = sys_get();
    struct mm *mm = &sys->mm;
    PMDL m = MemoryDescriptorList;
    ke_sched_point(&sys->ke);
    uint8_t irql = ke_irql(&sys->ke);
    if (irql > DISPATCH_LEVEL)
        vf_fire(&rule_pages_irql, irql, 0, 0, "MmFreePagesFromMdl at IRQL %u", irql);
    if (m->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA)
        mm_mdl_unmap_system(m);
    uint64_t n = mm_mdl_span(MmGetMdlVirtualAddress(m), m->ByteCount);
    PPFN_NUMBER pfn = MmGetMdlPfnArray(m);
    for (uint64_t k = 0; k < n; k++)
        pfn_free(&mm->machine->pfn, pfn[k]);
    m->MdlFlags &= (CSHORT)~MDL_PAGES_LOCKED;
}
