/*
 * src/mm/mdl.c - MDLs: allocation, partial MDLs, describing pages (nonpaged
 * build, probe-and-lock, unlock) and the user-buffer probes.
 *
 * Models: spec/mdl.md 1-4 and 6. An MDL is the WDK's 48-byte header and an
 * 8-byte PFN per spanned page, in nonpaged pool. Probe-and-lock walks the
 * PTEs of the buffer: a page that is not mapped, or not writable for a
 * write lock, raises STATUS_ACCESS_VIOLATION to the caller's __try (SEH,
 * src/io/seh.c); a trimmed pageable page is paged in first. Locking sets
 * the frame's pfn_flag_locked so paging does not trim it.
 * Spec rules: mdl.probe-irql 0xC4/0x70, mdl.unlock-unlocked 0x7C,
 * mdl.unlock-nonpaged 0x7D, mdl.build-from-paged 0x7F, mdl.bad-flags
 * 0xB0 (lock of a nonpaged-pool or already locked MDL), mdl.partial-unlock
 * 0xB4, mdl.free-mapped 0xB8, mdl.free-locked 0xCB,
 * mdl.secondary-without-primary 0xC4/0x57000003.
 * User buffers: a UserMode probe and ProbeForRead/Write accept only ranges
 * inside the current process's user space (src/mm/user.c).
 * Not modelled: lock counts per frame (the frame bit is cleared by the first unlock);
 * MDL lookaside and MDL_ALLOCATED_FIXED_SIZE semantics beyond the flag.
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "sys.h"
#include "mm/mdl_impl.h"

const struct vf_rule mm_rule_mdl_bad_flags = {
    .id = "mdl.bad-flags",
    .code = 0xC4,
    .p1 = 0xB0,
    .params = {"MDL", "flags", "bad or missing flags"},
    .text = "MDL with the wrong flags for this call (lock of a nonpaged-pool or locked MDL; "
            "map of a mapped MDL)",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-bad-flags",
};
static const struct vf_rule rule_probe_irql = {
    .id = "mdl.probe-irql",
    .code = 0xC4,
    .p1 = 0x70,
    .params = {"IRQL", "MDL", "access mode"},
    .text = "MmProbeAndLockPages above DISPATCH_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-probe-irql",
};
static const struct vf_rule rule_unlock_unlocked = {
    .id = "mdl.unlock-unlocked",
    .code = 0xC4,
    .p1 = 0x7C,
    .params = {"MDL", "flags", "reserved"},
    .text = "MmUnlockPages of an MDL whose pages were never locked",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-unlock-unlocked",
};
static const struct vf_rule rule_unlock_nonpaged = {
    .id = "mdl.unlock-nonpaged",
    .code = 0xC4,
    .p1 = 0x7D,
    .params = {"MDL", "flags", "reserved"},
    .text = "MmUnlockPages of an MDL built by MmBuildMdlForNonPagedPool",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-unlock-nonpaged",
};
static const struct vf_rule rule_build_paged = {
    .id = "mdl.build-from-paged",
    .code = 0xC4,
    .p1 = 0x7F,
    .params = {"IRQL", "MDL", "flags"},
    .text = "MmBuildMdlForNonPagedPool on pageable memory",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-build-from-paged",
};
static const struct vf_rule rule_partial_unlock = {
    .id = "mdl.partial-unlock",
    .code = 0xC4,
    .p1 = 0xB4,
    .params = {"MDL", "flags", "reserved"},
    .text = "MmUnlockPages of a partial MDL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-partial-unlock",
};
static const struct vf_rule rule_free_mapped = {
    .id = "mdl.free-mapped",
    .code = 0xC4,
    .p1 = 0xB8,
    .params = {"MDL", "flags", "reserved"},
    .text = "IoFreeMdl of an MDL still mapped to system VA",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-free-mapped",
};
static const struct vf_rule rule_free_locked = {
    .id = "mdl.free-locked",
    .code = 0xCB,
    .p1 = 0,
    .params = {"caller of the lock's caller", "MDL", "locked pages"},
    .text = "IoFreeMdl of an MDL whose pages are still locked (P1: where they were locked)",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-free-locked",
};
static const struct vf_rule rule_secondary = {
    .id = "mdl.secondary-without-primary",
    .code = 0xC4,
    .p1 = 0x57000003,
    .params = {"IRP", "MDL", "reserved"},
    .text = "IoAllocateMdl of a secondary buffer for an IRP that has no primary MDL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mdl-secondary-without-primary",
};

/* ---- host-side tracking: where each locked MDL was locked ----------------- */

struct mdl_lock_rec {
    PMDL mdl;
    void *caller;
    struct mdl_lock_rec *next;
};

static struct mdl_lock_rec **locks(void)
{
    return (struct mdl_lock_rec **)&sys_get()->mm.mdl_locks;
}

static void lock_note(PMDL m, void *caller)
{
    struct mdl_lock_rec *r = malloc(sizeof(*r));
    if (!r)
        return;
    r->mdl = m;
    r->caller = caller;
    r->next = *locks();
    *locks() = r;
}

static void *lock_forget(PMDL m)
{
    for (struct mdl_lock_rec **pp = locks(); *pp; pp = &(*pp)->next) {
        if ((*pp)->mdl == m) {
            struct mdl_lock_rec *r = *pp;
            void *c = r->caller;
            *pp = r->next;
            free(r);
            return c;
        }
    }
    return NULL;
}

unsigned mm_mdl_locked_count(struct mm *mm)
{
    unsigned n = 0;
    for (struct mdl_lock_rec *r = mm->mdl_locks; r; r = r->next)
        n++;
    return n;
}

void *mm_mdl_locked_for(struct mm *mm, void *owner, void **caller)
{
    for (struct mdl_lock_rec *r = mm->mdl_locks; r; r = r->next) {
        if (r->mdl->Process == owner) {
            *caller = r->caller;
            return r->mdl;
        }
    }
    return NULL;
}

void mm_mdl_fini(struct mm *mm)
{
    struct mdl_lock_rec *r = mm->mdl_locks;
    while (r) {
        struct mdl_lock_rec *n = r->next;
        free(r);
        r = n;
    }
    mm->mdl_locks = NULL;
}

/* ---- sizes and allocation ------------------------------------------------------ */

uint64_t mm_mdl_span(const void *va, uint64_t len)
{
    struct mm *mm = &sys_get()->mm;
    uint64_t off = (uintptr_t)va & (mm->page_size - 1);
    return (off + len + mm->page_size - 1) >> mm->page_shift;
}

void mm_mdl_init(PMDL m, void *va, uint64_t len)
{
    struct mm *mm = &sys_get()->mm;
    m->Next = NULL;
    m->Size = (CSHORT)(sizeof(MDL) + sizeof(PFN_NUMBER) * mm_mdl_span(va, len));
    m->MdlFlags = 0;
    m->Process = NULL;
    m->MappedSystemVa = NULL;
    m->StartVa = (PVOID)((uintptr_t)va & ~(uintptr_t)(mm->page_size - 1));
    m->ByteOffset = (ULONG)((uintptr_t)va & (mm->page_size - 1));
    m->ByteCount = (ULONG)len;
}

NTKERNELAPI SIZE_T NTAPI MmSizeOfMdl(PVOID Base, SIZE_T Length)
{
    return sizeof(MDL) + sizeof(PFN_NUMBER) * mm_mdl_span(Base, Length);
}

NTKERNELAPI PMDL NTAPI IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer,
                                     BOOLEAN ChargeQuota, PIRP Irp)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    (void)ChargeQuota;
    if (Length == 0 || (uint64_t)Length > 0xFFFFFFFFULL - sys->mm.page_size + 1)
        return NULL;
    uint64_t pages = mm_mdl_span(VirtualAddress, Length);
    PMDL m =
        ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(MDL) + pages * sizeof(PFN_NUMBER), mm_tag_mdl);
    if (!m)
        return NULL;
    mm_mdl_init(m, VirtualAddress, Length);
    if (pages <= 23)
        m->MdlFlags |= MDL_ALLOCATED_FIXED_SIZE;
    if (Irp) {
        if (!SecondaryBuffer) {
            Irp->MdlAddress = m;
        } else if (!Irp->MdlAddress) {
            vf_fire(&rule_secondary, (uint64_t)(uintptr_t)Irp, (uint64_t)(uintptr_t)m, 0,
                    "[IRP %p, MDL %p] secondary MDL for an IRP with no MdlAddress", (void *)Irp,
                    (void *)m);
            Irp->MdlAddress = m;
        } else {
            PMDL t = Irp->MdlAddress;
            while (t->Next)
                t = t->Next;
            t->Next = m;
        }
    }
    return m;
}

NTKERNELAPI VOID NTAPI IoFreeMdl(PMDL Mdl)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    /* Only a lock MmProbeAndLockPages took must be undone first: an
     * MmAllocatePagesForMdl(Ex) MDL carries MDL_PAGES_LOCKED without one, and
     * freeing it while mapped is mdl.free-mapped (spec/mdl.md 3). */
    void *where = (Mdl->MdlFlags & MDL_PAGES_LOCKED) ? lock_forget(Mdl) : NULL;
    if (where) {
        ke_violation(&rule_free_locked, (uint64_t)(uintptr_t)where, 0, (uint64_t)(uintptr_t)Mdl,
                     mm_mdl_span(MmGetMdlVirtualAddress(Mdl), Mdl->ByteCount),
                     "[MDL %p, %u bytes] IoFreeMdl while its pages are locked", (void *)Mdl,
                     Mdl->ByteCount);
    }
    if (Mdl->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED) {
        mm_mdl_unmap_system(Mdl);
    } else if ((Mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) && !(Mdl->MdlFlags & MDL_PARTIAL)) {
        vf_fire(&rule_free_mapped, (uint64_t)(uintptr_t)Mdl, (uint16_t)Mdl->MdlFlags, 0,
                "[MDL %p, mapped at %p] IoFreeMdl of an MDL still mapped to system VA", (void *)Mdl,
                Mdl->MappedSystemVa);
    }
    ExFreePoolWithTag(Mdl, mm_tag_mdl);
}

NTKERNELAPI VOID NTAPI IoBuildPartialMdl(PMDL SourceMdl, PMDL TargetMdl, PVOID VirtualAddress,
                                         ULONG Length)
{
    struct mm *mm = &sys_get()->mm;
    uint8_t *src_va = MmGetMdlVirtualAddress(SourceMdl);
    uint64_t offset = (uint64_t)((uint8_t *)VirtualAddress - src_va);
    if (Length == 0)
        Length = (ULONG)(SourceMdl->ByteCount - offset);
    uint64_t first = (((uintptr_t)VirtualAddress & ~(uintptr_t)(mm->page_size - 1)) -
                      (uintptr_t)SourceMdl->StartVa) >>
                     mm->page_shift;
    uint64_t n = mm_mdl_span(VirtualAddress, Length);
    mm_mdl_init(TargetMdl, VirtualAddress, Length);
    TargetMdl->Process = SourceMdl->Process;
    memcpy(MmGetMdlPfnArray(TargetMdl), MmGetMdlPfnArray(SourceMdl) + first,
           n * sizeof(PFN_NUMBER));
    TargetMdl->MdlFlags =
        (CSHORT)(MDL_PARTIAL | (SourceMdl->MdlFlags &
                                (MDL_IO_PAGE_READ | MDL_SOURCE_IS_NONPAGED_POOL | MDL_IO_SPACE)));
    if (SourceMdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL)) {
        TargetMdl->MappedSystemVa = (uint8_t *)SourceMdl->MappedSystemVa + offset;
        if (SourceMdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA)
            TargetMdl->MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA | MDL_PARENT_MAPPED_SYSTEM_VA;
    }
}

NTKERNELAPI VOID NTAPI MmPrepareMdlForReuse(PMDL Mdl)
{
    if (Mdl->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED)
        mm_mdl_unmap_system(Mdl);
}

/* ---- describing pages ------------------------------------------------------------ */

NTKERNELAPI VOID NTAPI MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList)
{
    struct sys *sys = sys_get();
    struct mm *mm = &sys->mm;
    PMDL m = MemoryDescriptorList;
    ke_sched_point(&sys->ke);
    uint8_t *va = m->StartVa;
    uint64_t n = mm_mdl_span(MmGetMdlVirtualAddress(m), m->ByteCount);
    PPFN_NUMBER pfn = MmGetMdlPfnArray(m);
    for (uint64_t k = 0; k < n; k++, va += mm->page_size) {
        uint64_t *pte = mm_pte_of(mm, va);
        if (!pte || !(*pte & mm_pte_valid))
            ke_bugcheck(0x50, (uint64_t)(uintptr_t)va, 0, 0, 0, NULL,
                        "[MDL %p] MmBuildMdlForNonPagedPool over an unmapped page %p", (void *)m,
                        (void *)va);
        if (*pte & mm_pte_pageable)
            vf_fire(&rule_build_paged, ke_irql(&sys->ke), (uint64_t)(uintptr_t)m,
                    (uint16_t)m->MdlFlags,
                    "[MDL %p, VA %p] MmBuildMdlForNonPagedPool over pageable memory", (void *)m,
                    (void *)va);
        if (*pte & mm_pte_io)
            m->MdlFlags |= MDL_IO_SPACE;
        pfn[k] = mm_pte_frame(*pte);
    }
    m->MdlFlags |= MDL_SOURCE_IS_NONPAGED_POOL;
    m->MappedSystemVa = MmGetMdlVirtualAddress(m);
}

NTKERNELAPI VOID NTAPI MmProbeAndLockPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode,
                                           LOCK_OPERATION Operation)
{
    struct sys *sys = sys_get();
    struct mm *mm = &sys->mm;
    PMDL m = MemoryDescriptorList;
    ke_sched_point(&sys->ke);
    uint8_t irql = ke_irql(&sys->ke);
    if (irql > DISPATCH_LEVEL)
        vf_fire(&rule_probe_irql, irql, (uint64_t)(uintptr_t)m, (uint64_t)AccessMode,
                "[MDL %p] MmProbeAndLockPages at IRQL %u", (void *)m, irql);
    if (m->MdlFlags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_PAGES_LOCKED | MDL_PARTIAL))
        ke_violation(&mm_rule_mdl_bad_flags, 0xB0, (uint64_t)(uintptr_t)m, (uint16_t)m->MdlFlags,
                     m->MdlFlags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_PAGES_LOCKED | MDL_PARTIAL),
                     "[MDL %p, flags %#x] MmProbeAndLockPages of a nonpaged-pool, partial or "
                     "already locked MDL",
                     (void *)m, (unsigned)(uint16_t)m->MdlFlags);
    uint8_t *start = MmGetMdlVirtualAddress(m);
    /* UserMode: the range must lie in the current process's user space
     * (below MmUserProbeAddress); the MDL then names that process. */
    if ((AccessMode == UserMode && !mm_user_range(mm, start, m->ByteCount)) ||
        (uintptr_t)start + m->ByteCount < (uintptr_t)start)
        io_seh_raise(STATUS_ACCESS_VIOLATION, start);
    m->Process = mm_user_owner(mm, start);
    uint8_t *va = m->StartVa;
    uint64_t n = mm_mdl_span(start, m->ByteCount);
    PPFN_NUMBER pfn = MmGetMdlPfnArray(m);
    for (uint64_t k = 0; k < n; k++, va += mm->page_size) {
        uint64_t *pte = mm_pte_of(mm, va);
        if (pte && (*pte & mm_pte_trimmed))
            mm_page_in(mm, va);
        if (!pte || !(*pte & mm_pte_valid) || (*pte & mm_pte_guard) ||
            (Operation != IoReadAccess && !(*pte & mm_pte_write))) {
            /* Nothing stays locked after a failed probe. */
            for (uint64_t j = 0; j < k; j++)
                if (pfn[j] < mm->machine->pfn.nframes)
                    mm->machine->pfn.entries[pfn[j]].flags &= ~(uint32_t)pfn_flag_locked;
            io_seh_raise(STATUS_ACCESS_VIOLATION, va < start ? start : va);
        }
        pfn[k] = mm_pte_frame(*pte);
        if (*pte & mm_pte_io)
            m->MdlFlags |= MDL_IO_SPACE;
        else if (pfn[k] < mm->machine->pfn.nframes)
            mm->machine->pfn.entries[pfn[k]].flags |= pfn_flag_locked;
    }
    m->MdlFlags |= MDL_PAGES_LOCKED;
    if (Operation != IoReadAccess)
        m->MdlFlags |= MDL_WRITE_OPERATION;
    lock_note(m, __builtin_return_address(0));
}

NTKERNELAPI VOID NTAPI MmUnlockPages(PMDL MemoryDescriptorList)
{
    struct sys *sys = sys_get();
    struct mm *mm = &sys->mm;
    PMDL m = MemoryDescriptorList;
    ke_sched_point(&sys->ke);
    if (m->MdlFlags & MDL_PARTIAL)
        vf_fire(&rule_partial_unlock, (uint64_t)(uintptr_t)m, (uint16_t)m->MdlFlags, 0,
                "[MDL %p] MmUnlockPages of a partial MDL", (void *)m);
    if (m->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL)
        vf_fire(&rule_unlock_nonpaged, (uint64_t)(uintptr_t)m, (uint16_t)m->MdlFlags, 0,
                "[MDL %p] MmUnlockPages of a MmBuildMdlForNonPagedPool MDL", (void *)m);
    if (!(m->MdlFlags & MDL_PAGES_LOCKED)) {
        vf_fire(&rule_unlock_unlocked, (uint64_t)(uintptr_t)m, (uint16_t)m->MdlFlags, 0,
                "[MDL %p, flags %#x] MmUnlockPages of an MDL that is not locked", (void *)m,
                (unsigned)(uint16_t)m->MdlFlags);
        return;
    }
    if (m->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA)
        mm_mdl_unmap_system(m);
    uint64_t n = mm_mdl_span(MmGetMdlVirtualAddress(m), m->ByteCount);
    PPFN_NUMBER pfn = MmGetMdlPfnArray(m);
    for (uint64_t k = 0; k < n; k++)
        if (pfn[k] < mm->machine->pfn.nframes)
            mm->machine->pfn.entries[pfn[k]].flags &= ~(uint32_t)pfn_flag_locked;
    m->MdlFlags &= (CSHORT) ~(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION);
    lock_forget(m);
}

/* ---- ProbeForRead / ProbeForWrite ------------------------------------------------------ */

static void probe(const volatile void *addr, SIZE_T len, ULONG align, bool write)
{
    if (len == 0)
        return;
    if (align && ((uintptr_t)addr & (align - 1)))
        io_seh_raise(STATUS_DATATYPE_MISALIGNMENT, (void *)addr);
    /* Only a range inside the current process's user space passes; a
     * kernel address raises (spec/mdl.md 6). */
    struct mm *mm = &sys_get()->mm;
    if (!mm_user_range(mm, (const void *)addr, len))
        io_seh_raise(STATUS_ACCESS_VIOLATION, (void *)addr);
    if (!write)
        return;
    /* ProbeForWrite touches each page: it must be committed and writable. */
    uintptr_t page = (uintptr_t)addr & ~(uintptr_t)(mm->page_size - 1);
    for (; page < (uintptr_t)addr + len; page += mm->page_size) {
        uint64_t *pte = mm_pte_of(mm, (void *)page);
        if (!pte || !(*pte & mm_pte_valid) || !(*pte & mm_pte_write))
            io_seh_raise(STATUS_ACCESS_VIOLATION,
                         (void *)(page < (uintptr_t)addr ? (uintptr_t)addr : page));
    }
}

NTKERNELAPI VOID NTAPI ProbeForRead(const volatile VOID *Address, SIZE_T Length, ULONG Alignment)
{
    probe(Address, Length, Alignment, false);
}

NTKERNELAPI VOID NTAPI ProbeForWrite(volatile VOID *Address, SIZE_T Length, ULONG Alignment)
{
    probe(Address, Length, Alignment, true);
}

const struct vf_rule *const mm_mdl_vf_rules[mm_mdl_vf_rule_count] = {
    &mm_rule_mdl_bad_flags, &rule_probe_irql,  &rule_unlock_unlocked,
    &rule_unlock_nonpaged,  &rule_build_paged, &rule_partial_unlock,
    &rule_free_mapped,      &rule_free_locked, &rule_secondary,
};
